/**
 * `--role gateway` admission against the workers' advertisement (queue/admission.ts,
 * queue/registry.ts), in the transaction that stores the answer: MODEL_UNAVAILABLE with no
 * live worker, retry hints from the advertised capacity and service time (retry_hint.ts's
 * line), nothing written on refusal.
 */
import { availableDatabaseKinds } from "@padt/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertExchange } from "../src/db/repos/exchange.js";
import { messages, workers } from "../src/db/schema.js";
import { RetryLine } from "../src/generation/retry_hint.js";
import { admitInTransaction, type QueueAdmission } from "../src/queue/admission.js";
import { AdvertisedWorker, modelCapacity } from "../src/queue/registry.js";
import { ServiceRate } from "../src/queue/service_rate.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner, newSession } from "./helpers/fixtures.js";

/** Code and details of a refusal, whichever error class carries it (GraphQLError or PadtError). */
async function refusal(attempt: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = (await attempt.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; details?: object; extensions?: { code?: string } } | undefined;
  if (!error) throw new Error("admitted, expected a refusal");
  return {
    ...(error.details ?? error.extensions ?? {}),
    code: error.extensions?.code ?? error.code,
  };
}

describe.each(availableDatabaseKinds())("queue admission on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  const admission = (model: string, over: Partial<QueueAdmission> = {}): QueueAdmission => ({
    model,
    leaseMs: 30_000,
    limits: { generationsPerOwner: 10, queueLength: 10 },
    line: new RetryLine(10),
    rate: new ServiceRate(),
    ...over,
  });

  /** Stores an exchange and admits it in one transaction, as sendMessage does. */
  async function send(options: QueueAdmission, ownerId?: string) {
    const owner = ownerId ?? (await newOwner(t.db)).id;
    const session = await newSession(t.db, owner);
    const attempt = t.db.transaction(async (tx) => {
      const ex = await insertExchange(tx, owner, {
        sessionId: session.id,
        parts: [{ kind: "text", text: "hi" }],
      });
      const id = ex.assistantMessage.id;
      await admitInTransaction(
        tx,
        { ownerId: owner, sessionId: session.id, messageId: id },
        options,
      );
      return id;
    });
    return { owner, session: session.id, attempt };
  }

  async function sessionRows(sessionId: string) {
    return t.db.select({ id: messages.id }).from(messages).where(eq(messages.sessionId, sessionId));
  }

  it("refuses with MODEL_UNAVAILABLE while no live worker serves the model; a worker registering lets it in, one that stopped or went silent does not", async () => {
    const model = `m-${kind}-1`;
    const refused = await send(admission(model));
    const why = await refusal(refused.attempt);
    expect(why).toMatchObject({ code: "MODEL_UNAVAILABLE", model });
    expect(why.retryAfterMs).toBeGreaterThan(0);
    expect(await sessionRows(refused.session)).toEqual([]);

    // A worker of another model does not count.
    const other = await AdvertisedWorker.register(
      t.db,
      { model: `${model}-other`, capacity: 1, executionProvider: "cpu" },
      { heartbeatMs: 60_000, forgetMs: 3_600_000 },
    );
    expect(await refusal((await send(admission(model))).attempt)).toMatchObject({
      code: "MODEL_UNAVAILABLE",
    });
    const worker = await AdvertisedWorker.register(
      t.db,
      { model, capacity: 2, executionProvider: "cpu" },
      { heartbeatMs: 60_000, forgetMs: 3_600_000 },
    );
    const accepted = await send(admission(model));
    const acceptedId = await accepted.attempt;
    expect(await sessionRows(accepted.session)).toHaveLength(2);
    // The queue counts every unfinished answer: end this one for the tests after.
    await t.db.update(messages).set({ status: "cancelled" }).where(eq(messages.id, acceptedId));

    // Silent for longer than the lease: as good as dead.
    await t.db
      .update(workers)
      .set({ heartbeatAt: sql`now() - interval '1 minute'` })
      .where(eq(workers.id, worker.id));
    expect(await refusal((await send(admission(model))).attempt)).toMatchObject({
      code: "MODEL_UNAVAILABLE",
    });
    await worker.close();
    await other.close();
    expect((await modelCapacity(t.db, model, 30_000)).workers).toBe(0);
  });

  it("the advertisement sums capacity, answers in flight (with their elapsed time) and service time", async () => {
    const model = `m-${kind}-2`;
    const a = await AdvertisedWorker.register(
      t.db,
      { model, capacity: 1, executionProvider: "cpu" },
      { heartbeatMs: 60_000, forgetMs: 3_600_000 },
    );
    const b = await AdvertisedWorker.register(
      t.db,
      { model, capacity: 3, executionProvider: "cuda" },
      { heartbeatMs: 60_000, forgetMs: 3_600_000 },
    );
    a.claimed("00000000-0000-7000-8000-000000000001");
    a.finished("00000000-0000-7000-8000-000000000001", 1000);
    b.claimed("00000000-0000-7000-8000-000000000002");
    b.claimed("00000000-0000-7000-8000-000000000003");
    b.finished("00000000-0000-7000-8000-000000000003", 2000);
    // Writes are queued in order; close() waits for them (here: a heartbeat-free read after).
    await new Promise((r) => setTimeout(r, 300));
    const c = await modelCapacity(t.db, model, 30_000);
    expect(c).toMatchObject({
      workers: 2,
      capacity: 4,
      inFlight: 1,
      completed: 2,
      executionProviders: ["cpu", "cuda"],
    });
    expect([...c.inService.keys()]).toEqual(["00000000-0000-7000-8000-000000000002"]);
    // Weighted by capacity: (1000 x 1 + 2000 x 3) / 4.
    expect(c.serviceMs).toBe(1750);
    await a.close();
    await b.close();
  });

  it("a full queue refuses with a hint from the advertised service time, nothing written; the owner's limit with its own first completion", async () => {
    const model = `m-${kind}-3`;
    const worker = await AdvertisedWorker.register(
      t.db,
      { model, capacity: 1, executionProvider: "cpu" },
      { heartbeatMs: 60_000, forgetMs: 3_600_000 },
    );
    const full = admission(model, { limits: { generationsPerOwner: 1, queueLength: 1 } });
    const first = await send(full);
    const firstId = await first.attempt;
    worker.claimed(firstId);
    worker.finished("00000000-0000-7000-8000-0000000000ff", 1000);
    worker.claimed(firstId);
    await new Promise((r) => setTimeout(r, 300));

    const second = await send(full);
    const refused = await refusal(second.attempt);
    expect(refused.code).toBe("QUEUE_FULL");
    // The first answer ends after what remains of the 1 s mean (it started ~0.3 s ago); the
    // hint adds a fifth of that wait and a quarter of the 1 s interval between completions.
    const hint = refused.retryAfterMs as number;
    expect(hint).toBeGreaterThan(600);
    expect(hint).toBeLessThan(1450);
    expect(await sessionRows(second.session)).toEqual([]);

    const mine = await send(
      admission(model, { limits: { generationsPerOwner: 1, queueLength: 10 } }),
      first.owner,
    );
    const limited = await refusal(mine.attempt);
    expect(limited.code).toBe("TOO_MANY_GENERATIONS");
    expect(limited.retryAfterMs).toBeLessThan(1000);
    await t.db.update(messages).set({ status: "cancelled" }).where(eq(messages.id, firstId));
    await worker.close();
  });
});
