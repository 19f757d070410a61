import { TaskRegistry } from "@padt/task-api";
import { recTask } from "@padt/tasks-rec";
import { availableDatabaseKinds } from "@padt/testkit";
import { type ExecutionResult, parse, subscribe } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBus } from "../src/bus.js";
import { listEvents } from "../src/db/repos/events.js";
import { insertExchange } from "../src/db/repos/exchange.js";
import { putImage } from "../src/db/repos/images.js";
import { getMessage } from "../src/db/repos/messages.js";
import { partsByMessageIds } from "../src/db/repos/parts.js";
import { sweepExpiredLeases } from "../src/generation/lease_sweep.js";
import { GenerationRunner } from "../src/generation/runner.js";
import { createContext, type Services } from "../src/graphql/context.js";
import { resolvers, visualRefHelpers } from "../src/graphql/resolvers/index.js";
import { messageEventStream } from "../src/graphql/resolvers/subscription.js";
import { buildSchema } from "../src/graphql/schema.js";
import { ImageService } from "../src/images.js";
import { DEFAULT_LIMITS } from "../src/index.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { gate, type Step, scriptedEngine } from "./helpers/engines.js";
import { newOwner, newSession } from "./helpers/fixtures.js";
import { png } from "./helpers/png.js";

/** A requester for admission-only checks: one session per owner (no rows are written). */
const asker = (ownerId: string) => ({ ownerId, sessionId: `session-of-${ownerId}` });
const usage = { promptTokens: 10, completionTokens: 6, prefillMs: 5, decodeMs: 12, decoderMs: 1 };
const decoded = {
  index: 0,
  label: "red circle",
  image: 0,
  patches: [3, 4],
  box: { x: 10, y: 12, width: 20, height: 22 },
  mask: { height: 56, width: 56, counts: "PPh0", area: 1 },
  score: 0.875,
};
/** A REC answer: text, an object of two patches, decoded, more text, done. */
const REC_ANSWER: Step[] = [
  { type: "text", text: 'The "red circle"' },
  { type: "text", text: " is " },
  // The engine sends the object's label with its first token.
  { type: "vrt", object: 0, image: 0, patch: 3, label: "red circle" },
  { type: "vrt", object: 0, image: 0, patch: 4 },
  { type: "object", object: decoded },
  { type: "text", text: " here." },
  { type: "done", finishReason: "stop", usage, tokenIds: [] },
];

const EVENTS = `subscription($id: ID!, $after: Int) { messageEvents(messageId: $id, afterSeq: $after) {
  __typename
  ... on TextDelta { seq text }
  ... on VisualRefStarted { seq ref { id index label patches decoded } }
  ... on VisualRefDecoded { seq ref { id label patches decoded box { x y width height } score mask { counts } image { id } } }
  ... on MessageCompleted { seq message { status text result { __typename ... on RecResult { expression ref { label box { x } } } } } }
  ... on MessageFailed { seq error { code } }
  ... on MessageCancelled { seq message { status text } }
} }`;

/*
 * A unit test of the runner and of the messageEvents stream, called in process (no HTTP):
 * the one place a scripted engine (a test double) is used, because these cases need exact
 * control of each event and of when it comes (gates). The end-to-end server tests
 * (server-*.test.ts) run the real engine on the tiny bundle.
 */
describe.each(availableDatabaseKinds())("generation runner and messageEvents on %s", (kind) => {
  let t: OpenDatabase;
  const tasks = new TaskRegistry([recTask]);
  const schema = buildSchema({ tasks, resolvers, helpers: visualRefHelpers });
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  /** A runner on a scripted engine, an owner with a session and an image, and a send helper. */
  async function setup(
    scripts: Step[][],
    options: {
      cancelGraceMs?: number;
      generationsPerOwner?: number;
      queueLength?: number;
      /** Past a drain's window, hand answers back to the lease sweep (as `padt worker`). */
      handBack?: boolean;
    } = {},
  ) {
    const scripted = scriptedEngine(scripts);
    const bus = createBus();
    const sweep = sweepExpiredLeases({ db: t.db, bus, everyMs: 60_000, leaseMs: 60_000 });
    sweep.stop();
    const limits = {
      ...DEFAULT_LIMITS,
      generationsPerOwner: options.generationsPerOwner ?? 4,
      queueLength: options.queueLength ?? DEFAULT_LIMITS.queueLength,
    };
    const runner = new GenerationRunner({
      db: t.db,
      engine: scripted.engine,
      tasks,
      bus,
      limits,
      cancelGraceMs: options.cancelGraceMs ?? 60_000,
      ...(options.handBack ? { handBack: (id: string) => sweep.handBack([id]) } : {}),
    });
    const services: Services = {
      db: t.db,
      engine: scripted.engine,
      tasks,
      bus,
      runner,
      images: new ImageService(scripted.engine, limits),
      limits,
    };
    const owner = await newOwner(t.db);
    const session = await newSession(t.db, owner.id);
    const image = await putImage(t.db, owner.id, {
      bytes: png(56, 56, 1),
      width: 56,
      height: 56,
      mimeType: "image/png",
      grid: { gridWidth: 23, gridHeight: 23 }, // the tiny bundle's, long side 644
    });
    const ctx = () => createContext(services, owner, { cache: false });
    async function send() {
      const reservation = runner.reserve({ ownerId: owner.id, sessionId: session.id });
      const ex = await insertExchange(t.db, owner.id, {
        sessionId: session.id,
        parts: [{ kind: "image", imageId: image.id }],
        task: "rec",
        taskInput: { expression: "the red circle" },
      });
      const messageId = ex.assistantMessage.id;
      return {
        messageId,
        start: () =>
          runner.start(reservation, {
            ownerId: owner.id,
            sessionId: session.id,
            messageId,
            task: "rec",
            taskInput: { expression: "the red circle" },
            options: { maxNewTokens: 64 },
          }),
      };
    }
    /** Runs messageEvents through the schema, collecting results (optionally only the first `take`). */
    async function events(messageId: string, afterSeq?: number, take?: number) {
      const stream = (await subscribe({
        schema,
        document: parse(EVENTS),
        contextValue: ctx(),
        variableValues: { id: messageId, after: afterSeq },
      })) as AsyncIterableIterator<ExecutionResult>;
      const out: Record<string, unknown>[] = [];
      for await (const r of stream) {
        expect(r.errors).toBeUndefined();
        out.push(r.data!.messageEvents as Record<string, unknown>);
        if (take && out.length >= take) break;
      }
      return out;
    }
    const waitFor = async (messageId: string, status: string) => {
      for (let i = 0; i < 200; i++) {
        const m = await getMessage(t.db, owner.id, messageId);
        if (m?.status === status) return m;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`message never became ${status}`);
    };
    return { runner, scripted, owner, session, image, ctx, send, events, waitFor };
  }

  it("streams the label the engine gave an object when it opened, not one read from the text", async () => {
    // An unclosed quote before the run: the engine's rule labels the object "tall box"; the
    // last closed quote ("dot") is not its label.
    const label = "tall box";
    const { send, events } = await setup([
      [
        { type: "text", text: 'A "dot" and "tall box ' },
        { type: "vrt", object: 0, image: 0, patch: 1, label },
        { type: "object", object: { ...decoded, label, patches: [1] } },
        { type: "done", finishReason: "stop", usage, tokenIds: [] },
      ],
    ]);
    const { messageId, start } = await send();
    start();
    const got = await events(messageId);
    const refs = got.filter((e) => String(e.__typename).startsWith("VisualRef"));
    expect(refs.length).toBeGreaterThan(0);
    for (const e of refs) expect(e.ref).toMatchObject({ label });
  });

  it("stores and streams an answer with a NUL character, as U+FFFD", async () => {
    // The byte-level vocabulary has a token for U+0000; PostgreSQL's text and jsonb do not.
    const label = "a\u0000b";
    const { send, events, owner } = await setup([
      [
        { type: "text", text: 'Nul \u0000 here "a\u0000b ' },
        { type: "vrt", object: 0, image: 0, patch: 1, label },
        { type: "object", object: { ...decoded, label, patches: [1] } },
        { type: "done", finishReason: "stop", usage, tokenIds: [] },
      ],
    ]);
    const { messageId, start } = await send();
    start();
    const got = await events(messageId);
    expect(got.at(-1)!.__typename).toBe("MessageCompleted");
    const text = got.filter((e) => e.__typename === "TextDelta").map((e) => e.text);
    expect(text.join("")).toBe('Nul \uFFFD here "a\uFFFDb ');
    const decodedRef = got.find((e) => e.__typename === "VisualRefDecoded")!.ref;
    expect(decodedRef).toMatchObject({ label: "a\uFFFDb" });
    const message = await getMessage(t.db, owner.id, messageId);
    expect(message).toMatchObject({ status: "complete" });
  });

  it("streams text, a growing then decoded visual reference and completion; stores the answer in one piece", async () => {
    const { send, events, owner, image, scripted } = await setup([REC_ANSWER]);
    const { messageId, start } = await send();
    const live = events(messageId); // subscribed before the generation starts
    await new Promise((r) => setTimeout(r, 50));
    start();
    const got = await live;
    const types = got.map((e) => e.__typename);
    expect(types.at(-1)).toBe("MessageCompleted");
    expect(got.map((e) => e.seq)).toEqual(got.map((_, i) => i + 1)); // gap-free
    const text = got
      .filter((e) => e.__typename === "TextDelta")
      .map((e) => e.text)
      .join("");
    expect(text).toBe('The "red circle" is  here.');
    const started = got.filter((e) => e.__typename === "VisualRefStarted");
    expect(started[0]!.ref).toMatchObject({ index: 0, label: "red circle", decoded: false });
    // Patches grow; a patch that arrives while the started event is still queued joins it.
    for (const e of started)
      expect([[3], [3, 4]]).toContainEqual((e.ref as { patches: number[] }).patches);
    expect((started.at(-1)!.ref as { patches: number[] }).patches).toEqual([3, 4]);
    const dec = got.find((e) => e.__typename === "VisualRefDecoded")!.ref as Record<
      string,
      unknown
    >;
    expect(dec).toMatchObject({
      label: "red circle",
      patches: [3, 4],
      decoded: true,
      box: decoded.box,
      score: 0.875,
      image: { id: image.id },
    });
    expect(dec.id).toBe(`vref_${messageId}_0`);
    expect(types.indexOf("VisualRefStarted")).toBeLessThan(types.indexOf("VisualRefDecoded"));
    const done = got.at(-1)!.message as Record<string, unknown>;
    expect(done).toMatchObject({
      status: "COMPLETE",
      text: 'The "red circle" is red circle here.',
      result: {
        __typename: "RecResult",
        expression: "the red circle",
        ref: { label: "red circle", box: { x: 10 } },
      },
    });
    const message = await getMessage(t.db, owner.id, messageId);
    expect(message).toMatchObject({ status: "complete", usage, lastSeq: got.length });
    const parts = await partsByMessageIds(t.db, owner.id, [messageId]);
    expect(parts.map((p) => p.kind)).toEqual(["text", "visual_ref", "text"]);
    expect(parts[1]).toMatchObject({ decoded: true, boxX: 10, patches: [3, 4], imageId: image.id });
    // The engine got the task's prompt and the image, and the options.
    const call = scripted.calls[0] as {
      turns: { role: string; content: { type: string; text?: string }[] }[];
      options: { maxNewTokens: number };
    };
    expect(call.turns.at(-1)!.content.map((c) => c.type)).toEqual(["image", "text"]);
    expect(call.turns.at(-1)!.content[1]!.text).toContain('"the red circle"');
    expect(call.options.maxNewTokens).toBe(64);

    // Resume after seq 2: exactly the events after it, though the generation has finished.
    const resumed = await events(messageId, 2);
    expect(resumed).toEqual(got.slice(2));
    const stored = await listEvents(t.db, owner.id, messageId);
    expect(stored.map((e) => e.seq)).toEqual(got.map((e) => e.seq));
  });

  it("resumes a live stream: a client that drops after two events gets exactly the rest", async () => {
    const g = gate();
    const { send, events } = await setup([
      [...REC_ANSWER.slice(0, 3), { type: "wait", gate: g }, ...REC_ANSWER.slice(3)],
    ]);
    const { messageId, start } = await send();
    start();
    const first = await events(messageId, 0, 2);
    expect(first.map((e) => e.seq)).toEqual([1, 2]);
    const rest = events(messageId, 2);
    await new Promise((r) => setTimeout(r, 50));
    g.release();
    const tail = await rest;
    expect(tail.map((e) => e.seq)).toEqual(tail.map((_, i) => i + 3));
    expect(tail.at(-1)!.__typename).toBe("MessageCompleted");
  });

  it("sessionEvents tells a session's subscribers when an answer's status changes", async () => {
    const { send, ctx, session } = await setup([REC_ANSWER]);
    const stream = (await subscribe({
      schema,
      document: parse(
        `subscription($id: ID!) { sessionEvents(sessionId: $id) { __typename ... on MessageStatusChanged { message { id role } } } }`,
      ),
      contextValue: ctx(),
      variableValues: { id: session.id },
    })) as AsyncIterableIterator<ExecutionResult>;
    const { messageId, start } = await send();
    start();
    const first = await stream.next();
    const second = await stream.next();
    await stream.return?.();
    for (const r of [first, second]) {
      expect(r.value.data.sessionEvents).toEqual({
        __typename: "MessageStatusChanged",
        message: { id: messageId, role: "ASSISTANT" },
      });
    }
  });

  it("cancelGeneration ends the answer CANCELLED with its partial content", async () => {
    const { send, events, runner, owner, waitFor } = await setup([
      [
        { type: "text", text: "partial " },
        { type: "wait", gate: gate() },
      ],
    ]);
    const { messageId, start } = await send();
    start();
    await events(messageId, 0, 1);
    await waitFor(messageId, "streaming");
    await runner.cancel(owner.id, messageId);
    const message = await getMessage(t.db, owner.id, messageId);
    expect(message?.status).toBe("cancelled");
    const parts = await partsByMessageIds(t.db, owner.id, [messageId]);
    expect(parts.map((p) => p.text)).toEqual(["partial "]);
    const all = await events(messageId);
    expect(all.map((e) => e.__typename)).toEqual(["TextDelta", "MessageCancelled"]);
    expect(all[1]!.message).toEqual({ status: "CANCELLED", text: "partial " });
    expect(runner.active).toBe(0);
  });

  it("stops a generation after its last subscriber left and the grace period passed", async () => {
    const { send, owner, ctx, waitFor, runner } = await setup(
      [
        [
          { type: "text", text: "x" },
          { type: "wait", gate: gate() },
        ],
      ],
      { cancelGraceMs: 150 },
    );
    const { messageId, start } = await send();
    start();
    const stream = await messageEventStream(ctx(), messageId, 0);
    const first = await stream.next();
    expect(first.value?.type).toBe("text_delta");
    await stream.return?.(); // the client goes away while the generation waits
    const m = await waitFor(messageId, "cancelled");
    expect(m.status).toBe("cancelled");
    expect(runner.isRunning(messageId)).toBe(false);
    expect((await getMessage(t.db, owner.id, messageId))?.lastSeq).toBe(2);
  });

  it("refuses at once when full: QUEUE_FULL with a retry hint, TOO_MANY_GENERATIONS per owner", async () => {
    const { runner, owner } = await setup([], { generationsPerOwner: 1, queueLength: 1 });
    const held = runner.reserve(asker(owner.id));
    expect(() => runner.reserve(asker(owner.id))).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({ code: "TOO_MANY_GENERATIONS" }),
      }),
    );
    const refusal = (ownerId: string) => {
      try {
        runner.reserve(asker(ownerId));
      } catch (e) {
        return e as { code: string; details: { retryAfterMs: number } };
      }
      throw new Error("admitted");
    };
    const [a, b] = [await newOwner(t.db), await newOwner(t.db)];
    const first = refusal(a.id);
    const second = refusal(b.id);
    expect(first.code).toBe("QUEUE_FULL");
    expect(first.details.retryAfterMs).toBeGreaterThan(0);
    // Clients refused together are given successive completions, not all the first one.
    expect(second.details.retryAfterMs).toBeGreaterThan(first.details.retryAfterMs);
    runner.release(held);
    // The freed place is kept for the first client refused, whose turn it is.
    expect(refusal(owner.id).code).toBe("QUEUE_FULL");
    runner.release(runner.reserve(asker(a.id)));
  });

  it("hands the engine one job per free worker: accepted answers queue here and all complete", async () => {
    const gates = [gate(), gate(), gate()];
    const script = (g: ReturnType<typeof gate>): Step[] => [
      { type: "text", text: "a" },
      { type: "wait", gate: g },
      ...REC_ANSWER,
    ];
    const { send, events, scripted } = await setup(gates.map(script));
    // The engine's queue holds nothing: before the fix the runner handed over every accepted
    // job at once, and the engine refused those it had no room for (QUEUE_FULL, FAILED).
    scripted.state.stats = { workers: 1, slots: 1, busy: 0, queued: 0, maxQueue: 0 };
    const sent = [await send(), await send(), await send()];
    for (const s of sent) s.start();
    const streams = sent.map((s) => events(s.messageId));
    await new Promise((r) => setTimeout(r, 100));
    expect(scripted.calls).toHaveLength(1);
    for (const g of gates) g.release();
    for (const got of await Promise.all(streams)) {
      expect(got.at(-1)?.__typename).toBe("MessageCompleted");
    }
    expect(scripted.calls).toHaveLength(3);
  });

  it("an engine busy with another client's work: the answer keeps its place and completes", async () => {
    const { send, events, scripted } = await setup([REC_ANSWER]);
    scripted.state.queueFull = true;
    const { messageId, start } = await send();
    start();
    const got = events(messageId);
    await new Promise((r) => setTimeout(r, 100));
    scripted.state.queueFull = false;
    expect((await got).at(-1)?.__typename).toBe("MessageCompleted");
  });

  it("drain: new work is refused at once; generations past the window end CANCELLED", async () => {
    const { send, runner, owner, waitFor } = await setup([
      [
        { type: "text", text: "slow" },
        { type: "wait", gate: gate() },
      ],
    ]);
    const { messageId, start } = await send();
    start();
    await waitFor(messageId, "streaming");
    const drained = runner.drain(100);
    expect(() => runner.reserve(asker(owner.id))).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: "SHUTTING_DOWN" }) }),
    );
    await drained;
    expect((await getMessage(t.db, owner.id, messageId))?.status).toBe("cancelled");
  });

  it("drain with handBack: generations past the window are handed back, INTERRUPTED with their streamed text, not CANCELLED", async () => {
    const { send, runner, owner, waitFor } = await setup(
      [
        [
          { type: "text", text: "slow" },
          { type: "wait", gate: gate() },
        ],
      ],
      { handBack: true },
    );
    const { messageId, start } = await send();
    start();
    await waitFor(messageId, "streaming");
    await runner.drain(100);
    expect(await getMessage(t.db, owner.id, messageId)).toMatchObject({
      status: "interrupted",
      errorCode: "INTERRUPTED",
    });
    const parts = await partsByMessageIds(t.db, owner.id, [messageId]);
    expect(parts.map((p) => p.text)).toEqual(["slow"]);
    const events = await listEvents(t.db, owner.id, messageId);
    expect(events.map((e) => e.type)).toEqual(["text_delta", "interrupted"]);
  });

  it("a handed-back answer keeps the record a cancelled one keeps (its history trim, usage) and ends as an expired lease's does (INTERRUPTED, a closing MessageFailed)", async () => {
    const trim = { droppedTurns: 2, droppedImages: 1, droppedRefs: 0 };
    const trimmedAnswer = (): Step[] => [
      { type: "trimmed", ...trim },
      { type: "text", text: "slow" },
      { type: "wait", gate: gate() },
    ];
    const ended = async (handBack: boolean) => {
      const { send, runner, owner, waitFor, events } = await setup([trimmedAnswer()], {
        handBack,
      });
      const { messageId, start } = await send();
      start();
      await waitFor(messageId, "streaming");
      await runner.drain(100);
      return {
        message: await getMessage(t.db, owner.id, messageId),
        last: (await events(messageId)).at(-1),
      };
    };
    const cancelled = await ended(false);
    const handedBack = await ended(true);
    const historyTrim = { droppedMessages: 2, droppedImages: 1, droppedRefs: 0 };
    expect(cancelled.message).toMatchObject({ status: "cancelled", metadata: { historyTrim } });
    expect(handedBack.message).toMatchObject({
      status: "interrupted",
      errorCode: "INTERRUPTED",
      metadata: { historyTrim },
      usage: cancelled.message?.usage,
    });
    expect(handedBack.last).toMatchObject({
      __typename: "MessageFailed",
      error: { code: "INTERRUPTED" },
    });
  });
});
