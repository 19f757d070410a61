/**
 * Scale-out on PostgreSQL (issue 18), as operators run it: two `padt serve --role gateway`
 * replicas and two `padt worker` processes on one database, all child processes without
 * NODE_ENV=test, on the tiny random bundle (it never stops by itself, so an answer runs as
 * long as asked). Fan-out between replicas is LISTEN/NOTIFY; answers go through the job queue.
 */
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killLeftovers } from "./helpers/cli-process.js";
import type { GqlBody } from "./helpers/server.js";
import {
  cancel,
  EVENTS,
  eventually,
  expectGapFree,
  expectInterrupted,
  LONG_ANSWER,
  message,
  newSession,
  type Replica,
  send,
  sendIn,
  startTopology,
  streamedText,
  TEST_GRACE_MS,
  TEST_LEASE_MS,
  type Topology,
  untilStreaming,
} from "./helpers/topology.js";

// The topology lives for the whole file (not killed after each test, as other CLI tests do).
afterAll(killLeftovers);

const postgres = availableDatabaseKinds().includes("postgres");

describe.skipIf(!postgres)("2 gateways + 2 workers on one PostgreSQL", () => {
  let topology: Topology;
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    topology = await startTopology({ gateways: 2, workers: 2 });
    [a, b] = topology.gateways as [Replica, Replica];
  }, 120_000);
  afterAll(() => topology?.close());

  it("a client on gateway B streams, in order with no gap, an answer sent through gateway A; the stored message equals it", async () => {
    const id = await send(a, 60);
    const events = await b.subscribe(EVENTS, { id, after: 0 });
    const { seqs, text, last } = streamedText(events);
    expectGapFree(seqs);
    expect(last.data?.messageEvents.__typename).toBe("MessageCompleted");
    expect(text.length).toBeGreaterThan(0);
    const stored = await message(a, id);
    expect(stored).toMatchObject({ status: "COMPLETE", text, lastSeq: seqs.at(-1) });
    // Resuming on the other replica after any seq replays exactly the rest.
    const resumed = streamedText(await a.subscribe(EVENTS, { id, after: 3 }));
    expect(resumed.seqs).toEqual(seqs.slice(3));
  });

  it("a gateway starting leaves a running answer alone; cancel through B stops the answer A enqueued, on its worker", async () => {
    const id = await send(a, LONG_ANSWER);
    const worker = await topology.claimedBy(id);
    const streaming = await untilStreaming(a, id);
    expect(streaming.status).toBe("STREAMING");
    const watched = b.subscribe(EVENTS, { id, after: 0 });

    const c = await topology.startGateway();
    const after = await message(c, id);
    expect(after.status).toBe("STREAMING");
    expect(after.error ?? null).toBeNull();

    expect(await cancel(b, id)).toBe("CANCELLED");
    // The worker that ran it stopped (its stop signal, or its next event write refused).
    await worker.waitFor(
      new RegExp(`"messageId":"${id}","status":"cancelled","msg":"generation finished"`),
    );
    const { seqs, text, last } = streamedText(await watched);
    expectGapFree(seqs);
    expect(last.data?.messageEvents.__typename).toBe("MessageCancelled");
    expect(await message(a, id)).toMatchObject({ status: "CANCELLED", text });
  });

  it("kill -9 the worker running an answer: it ends INTERRUPTED within the lease timeout, with its partial text; the other worker keeps serving", async () => {
    const id = await send(a, LONG_ANSWER);
    const victim = await topology.claimedBy(id);
    await untilStreaming(a, id);
    const watched = b.subscribe(EVENTS, { id, after: 0 });
    victim.child.kill("SIGKILL");
    await victim.exited;

    // Lease, then one sweep (every half lease) by a surviving process; generous slack for CI.
    const ended = await eventually(
      () => message(b, id),
      (m) => m.status !== "STREAMING",
      TEST_LEASE_MS * 10,
    );
    // With its partial text; its graphile job went with it.
    await expectInterrupted(topology, id, ended, watched);

    const next = await send(b, 20);
    const survivor = topology.workers.find((w) => w !== victim);
    expect(await topology.claimedBy(next)).toBe(survivor);
    const done = streamedText(await a.subscribe(EVENTS, { id: next, after: 0 }));
    expect(done.last.data?.messageEvents.__typename).toBe("MessageCompleted");
  });

  it("abandonment counts subscribers on every replica: A's leaving leaves an answer watched on B running; B's leaving stops it after the grace", async () => {
    const id = await send(a, LONG_ANSWER);
    await topology.claimedBy(id);
    const onA = a.watch(EVENTS, { id, after: 0 });
    const onB = b.watch(EVENTS, { id, after: 0 });
    await untilStreaming(a, id);
    await onA.close();
    // Twice the grace period: had A's leaving counted as the last, the answer would have stopped.
    await new Promise((r) => setTimeout(r, TEST_GRACE_MS * 2));
    expect((await message(b, id)).status).toBe("STREAMING");
    await onB.close();
    const ended = await eventually(
      () => message(b, id),
      (m) => m.status !== "STREAMING",
      TEST_GRACE_MS * 15,
    );
    expect(ended.status).toBe("CANCELLED");
  });

  it("admission holds across replicas: the owner's third unfinished answer is refused through either gateway, with a retry hint, nothing written", async () => {
    const first = await send(a, LONG_ANSWER);
    const second = await send(b, LONG_ANSWER);
    const session = await newSession(b);
    const refused = await sendIn(b, session, 20);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "TOO_MANY_GENERATIONS", max: 2 });
    expect(refused.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
    expect(await topology.storedMessages(session)).toEqual([]);
    for (const id of [first, second]) {
      expect(await cancel(a, id)).toBe("CANCELLED");
    }
  });

  it("SIGTERM stops a worker: it stops claiming, drains and exits 0", async () => {
    const extra = await topology.startWorker();
    extra.child.kill("SIGTERM");
    expect(await extra.exited).toEqual({ code: 0, signal: null });
    expect(extra.stderr()).toContain("drained; stopped");
    topology.workers.splice(topology.workers.indexOf(extra), 1);
  });

  it("restart gateway A while B streams an answer: B's client sees no gap; A's client resumes on B with afterSeq", async () => {
    const id = await send(a, 3000);
    const seenOnA: GqlBody[] = [];
    // A's socket closes under its client (1001) when A stops: that ends this one, not the test.
    const onA = a
      .subscribe(EVENTS, { id, after: 0 }, (body) => seenOnA.push(body))
      .catch(() => undefined);
    const onB = b.subscribe(EVENTS, { id, after: 0 });
    await eventually(
      async () => seenOnA.length,
      (n) => n >= 2,
      30_000,
    );
    a.proc.child.kill("SIGTERM");
    expect((await a.proc.exited).code).toBe(0);
    await onA;
    const before = streamedText(seenOnA);
    const resumed = streamedText(await b.subscribe(EVENTS, { id, after: before.seqs.at(-1) }));
    const seqs = [...before.seqs, ...resumed.seqs];
    expectGapFree(seqs);
    expect(resumed.last.data?.messageEvents.__typename).toBe("MessageCompleted");

    const onBAll = streamedText(await onB);
    expect(onBAll.seqs).toEqual(seqs);
    expect(before.text + resumed.text).toBe(onBAll.text);
    a = await topology.startGateway();
    expect(await message(a, id)).toMatchObject({ status: "COMPLETE", text: onBAll.text });
  });
});
