import { describe, expect, it, vi } from "vitest";
import { createBus } from "../src/bus.js";
import type { Running } from "../src/generation/job.js";
import { WatchAnnouncer, WatcherCounts } from "../src/generation/presence.js";

/** A started job as the runner keeps it (no engine needed: only its subscriber count matters). */
function running(messageId: string): Running {
  return {
    job: {
      ownerId: "o",
      sessionId: "s",
      messageId,
      task: null,
      taskInput: null,
      options: null,
    },
    controller: new AbortController(),
    done: Promise.resolve(),
    subscribers: 0,
  };
}

/*
 * A unit test of presence counting on one in-memory bus standing for the LISTEN/NOTIFY one
 * (the cross-process behaviour is in scaleout.e2e.test.ts): two announcers are two replicas.
 */
describe("watchers across replicas", () => {
  it("counts replicas, not subscribers; the last replica leaving starts the grace", async () => {
    const bus = createBus();
    const counts = new WatcherCounts(bus, 30, 60_000);
    const a = new WatchAnnouncer(bus, 60_000);
    const b = new WatchAnnouncer(bus, 60_000);
    const r = running("m1");
    a.joined("m1"); // before the job runs here: remembered
    counts.track(r);
    expect(r.subscribers).toBe(1);
    a.joined("m1");
    b.joined("m1");
    expect(r.subscribers).toBe(2);
    a.left("m1");
    a.left("m1");
    expect(r.subscribers).toBe(1);
    b.left("m1");
    expect(r.subscribers).toBe(0);
    await vi.waitFor(() => expect(r.controller.signal.aborted).toBe(true));
    expect(r.controller.signal.reason).toBe("abandoned");
    for (const x of [a, b, counts]) x.stop();
  });

  it("a replica that falls silent (it died) counts as gone; one that keeps beating does not", async () => {
    const bus = createBus();
    const counts = new WatcherCounts(bus, 10, 90);
    const alive = new WatchAnnouncer(bus, 20);
    const dying = new WatchAnnouncer(bus, 20);
    const kept = running("m2");
    const dropped = running("m3");
    counts.track(kept);
    counts.track(dropped);
    alive.joined("m2");
    dying.joined("m3");
    dying.stop(); // no heartbeat and no "left": the process is gone
    await vi.waitFor(() => expect(dropped.controller.signal.aborted).toBe(true), { timeout: 5000 });
    expect(kept.controller.signal.aborted).toBe(false);
    expect(kept.subscribers).toBe(1);
    for (const x of [alive, counts]) x.stop();
  });
});
