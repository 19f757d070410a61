/**
 * Workers as gateways see them (issue 18): capacity advertisement, MODEL_UNAVAILABLE, a
 * worker's own /metrics and /healthz, and a worker's graceful shutdown with an answer running.
 * One `padt serve --role gateway` and `padt worker` processes started and stopped by the tests,
 * child processes without NODE_ENV=test, on one PostgreSQL database.
 */
import { availableDatabaseKinds } from "@padt/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workers } from "../src/db/schema.js";
import { type CliProcess, killLeftovers } from "./helpers/cli-process.js";
import {
  cancel,
  EVENTS,
  eventually,
  expectInterrupted,
  LONG_ANSWER,
  message,
  newSession,
  type Replica,
  send,
  sendIn,
  startTopology,
  TEST_LEASE_MS,
  type Topology,
  untilComplete,
  untilStreaming,
} from "./helpers/topology.js";

afterAll(killLeftovers);

/** The value of one Prometheus sample line (`name{labels} value`), or undefined. */
function sample(text: string, line: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

const postgres = availableDatabaseKinds().includes("postgres");

describe.skipIf(!postgres)("workers advertise themselves; gateways admit against them", () => {
  let topology: Topology;
  let gateway: Replica;
  let first: CliProcess;
  let metricsUrl: string;

  async function scrape(path = "/metrics"): Promise<{ status: number; text: string }> {
    const res = await fetch(`${metricsUrl}${path}`);
    return { status: res.status, text: await res.text() };
  }

  async function advertised() {
    const handle = await topology.db();
    try {
      return await handle.db.select().from(workers);
    } finally {
      await handle.close();
    }
  }

  /** The `model` query's answer, on the gateway, about who runs the model. */
  async function serving() {
    const r = await gateway.gql(
      "{ model { serving { workers capacity inFlight executionProviders } } }",
    );
    expect(r.errors).toBeUndefined();
    return r.data.model.serving;
  }

  beforeAll(async () => {
    topology = await startTopology({ gateways: 1, workers: 0 });
    gateway = topology.gateways[0] as Replica;
  }, 120_000);
  afterAll(() => topology?.close());

  it("with no live worker for the model, sendMessage is refused at once with MODEL_UNAVAILABLE, nothing written; a worker starting serves it", async () => {
    const session = await newSession(gateway);
    const refused = await sendIn(gateway, session, 10);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: "MODEL_UNAVAILABLE",
      model: "padt-tiny-random",
    });
    expect(refused.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
    expect(await topology.storedMessages(session)).toEqual([]);

    expect(await serving()).toEqual({
      workers: 0,
      capacity: 0,
      inFlight: 0,
      executionProviders: [],
    });

    first = await topology.startWorker(["--metrics-port", "0"]);
    metricsUrl = (await first.waitFor(/metrics on (http:\/\/\S+)\/metrics/))[1] as string;
    const [row] = await advertised();
    // Capacity: engine workers (one) x the answers each batches (the engine's slots).
    expect(row).toMatchObject({ model: "padt-tiny-random", executionProvider: "cpu", running: {} });
    expect(row?.capacity).toBeGreaterThanOrEqual(1);
    expect(await serving()).toEqual({
      workers: 1,
      capacity: row?.capacity,
      inFlight: 0,
      executionProviders: ["cpu"],
    });
    const id = await send(gateway, 20);
    expect((await untilComplete(gateway, id)).status).toBe("COMPLETE");
    // The finished answer left the worker's in-flight set and fed its measured service time.
    const [after] = await eventually(advertised, (rows) => rows[0]?.completed === 1, 5000);
    expect(after).toMatchObject({ running: {}, completed: 1 });
    expect(after?.serviceMs).toBeGreaterThan(0);
    expect(after?.heartbeatAt.getTime()).toBeGreaterThan(row?.heartbeatAt.getTime() ?? 0);
  });

  it("a worker's /metrics (Prometheus text) shows claim latency, lease renewals, queue depth and the answer in flight; /healthz answers", async () => {
    expect((await scrape("/healthz")).status).toBe(200);
    const id = await send(gateway, LONG_ANSWER);
    // Renewals come every third of the lease: wait for one while the answer runs.
    const during = await eventually(
      () => scrape(),
      (s) => (sample(s.text, 'padt_lease_renewals_total{outcome="kept"}') ?? 0) >= 1,
      TEST_LEASE_MS * 10,
    );
    expect(during.status).toBe(200);
    expect(sample(during.text, 'padt_lease_renewals_total{outcome="kept"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect(sample(during.text, "padt_job_claim_latency_seconds_count")).toBe(2);
    expect(sample(during.text, "padt_generations_running")).toBe(1);
    expect(sample(during.text, "padt_generation_queue_depth")).toBe(0);
    expect(sample(during.text, "padt_decode_tokens_per_second_count")).toBe(1);
    // The worker advertises the answer in flight.
    const [row] = await advertised();
    expect(Object.keys(row?.running ?? {})).toEqual([id]);
    expect((await serving()).inFlight).toBe(1);

    expect(await cancel(gateway, id)).toBe("CANCELLED");
    const ended = await eventually(
      () => scrape(),
      (s) => sample(s.text, 'padt_generations_total{status="cancelled"}') === 1,
      10_000,
    );
    expect(sample(ended.text, "padt_generations_running")).toBe(0);
  });

  it("SIGTERM with an answer running: the worker stops claiming (a job queued meanwhile waits for another worker), drains within the window, exits 0 and withdraws its advertisement", async () => {
    const id = await send(gateway, LONG_ANSWER);
    await first.waitFor(new RegExp(`"messageId":"${id}","msg":"job claimed"`));
    await untilStreaming(gateway, id);
    const stoppedAt = Date.now();
    first.child.kill("SIGTERM");
    await first.waitFor(/draining/);
    expect((await scrape("/healthz")).status).toBe(503);
    // Still advertised while it drains, so this is queued; the draining worker must not take it.
    const next = await send(gateway, 20);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    // PADT_DRAIN_MS is 2 s in the topology; the rest is slack for a loaded machine.
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(first.stderr()).toContain("drained; stopped");
    expect(first.stdout() + first.stderr()).not.toContain(`"messageId":"${next}"`);
    expect((await message(gateway, next)).status).toBe("PENDING");

    // Past the window the answer was handed back: INTERRUPTED with what it had streamed (as a
    // dead worker's, docs/decisions.md 8), by the worker itself; its job is gone.
    const ended = await message(gateway, id);
    expect(ended.status).toBe("INTERRUPTED");
    expect(ended.lastSeq).toBeGreaterThanOrEqual(3);
    expect(first.stdout()).toContain(`"messageId":"${id}","status":"interrupted"`);
    expect(
      await topology.rows(sql`SELECT key FROM graphile_worker.jobs WHERE key = ${id}`),
    ).toEqual([]);
    expect(await advertised()).toEqual([]);
    const refused = await sendIn(gateway, await newSession(gateway), 10);
    expect(refused.errors?.[0]?.extensions?.code).toBe("MODEL_UNAVAILABLE");

    // The queued job waited for a worker: the next one to start answers it.
    const second = await topology.startWorker();
    await second.waitFor(new RegExp(`"messageId":"${next}","msg":"job claimed"`));
    expect((await untilComplete(gateway, next)).status).toBe("COMPLETE");
  });
});

/** Long enough that no lease can run out during the test: what ends an answer here is its worker. */
const LONG_LEASE_MS = 120_000;

describe.skipIf(!postgres)(
  "a worker stopping hands back the answers it cannot finish in its drain window",
  () => {
    let topology: Topology;
    let gateway: Replica;
    beforeAll(async () => {
      topology = await startTopology({
        gateways: 1,
        workers: 2,
        env: { PADT_LEASE_MS: String(LONG_LEASE_MS), PADT_DRAIN_MS: "300" },
      });
      gateway = topology.gateways[0] as Replica;
    }, 120_000);
    afterAll(() => topology?.close());

    it("SIGTERM with a long answer running: it ends INTERRUPTED with its streamed text when the worker exits, not a lease later; nothing stays STREAMING; the other worker serves on", async () => {
      const id = await send(gateway, LONG_ANSWER);
      const victim = await topology.claimedBy(id);
      await untilStreaming(gateway, id);
      const watched = gateway.subscribe(EVENTS, { id, after: 0 });
      victim.child.kill("SIGTERM");
      expect(await victim.exited).toEqual({ code: 0, signal: null });
      expect(victim.stdout()).toContain(
        `"messageId":"${id}","status":"interrupted","msg":"generation handed back"`,
      );

      // Ended by the time the worker is gone: its lease (two minutes) cannot have run out.
      const text = await expectInterrupted(topology, id, await message(gateway, id), watched);
      expect(text.length).toBeGreaterThan(0);
      expect(
        await topology.rows(sql`SELECT id FROM messages WHERE status IN ('streaming', 'pending')`),
      ).toEqual([]);

      const survivor = topology.workers.find((w) => w !== victim);
      const next = await send(gateway, 20);
      expect(await topology.claimedBy(next)).toBe(survivor);
      expect((await untilComplete(gateway, next)).status).toBe("COMPLETE");
    });
  },
);
