/**
 * The worker's claim latency (padt_job_claim_latency_seconds) is measured on one clock, the
 * database's: a worker whose own clock is off by an hour still reports a wait of moments.
 * graphile-worker runs on PostgreSQL only.
 */
import { availableDatabaseKinds, createTestDatabase } from "@padt/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connect } from "../src/db/connect.js";
import {
  addGenerationJob,
  claimWaitMs,
  consumeGenerationJobs,
  installQueue,
} from "../src/queue/graphile.js";

const HOUR_MS = 3_600_000;

describe("claim wait", () => {
  it("is the job's lock time minus its due time (both the database's)", () => {
    const run_at = new Date("2026-01-01T00:00:00.000Z");
    expect(claimWaitMs({ run_at, locked_at: new Date("2026-01-01T00:00:00.250Z") })).toBe(250);
    expect(claimWaitMs({ run_at, locked_at: null })).toBe(0);
  });
});

describe.skipIf(!availableDatabaseKinds().includes("postgres"))(
  "claim wait from a real queue on PostgreSQL",
  () => {
    afterEach(() => vi.restoreAllMocks());

    it("a worker whose clock is an hour ahead still reports the wait the database saw", async () => {
      const database = await createTestDatabase("postgres");
      if (database.kind !== "postgres") throw new Error("needs PostgreSQL");
      const handle = await connect({ url: database.url });
      try {
        await installQueue(handle, database.url);
        const job = {
          ownerId: "o",
          sessionId: "s",
          messageId: "00000000-0000-4000-8000-000000000001",
          task: null,
          taskInput: null,
          options: null,
        };
        await addGenerationJob(handle.db, "clock-test", job);
        const realNow = Date.now.bind(Date);
        vi.spyOn(Date, "now").mockImplementation(() => realNow() + HOUR_MS);
        let resolveWait: (ms: number) => void = () => {};
        const waited = new Promise<number>((resolve) => {
          resolveWait = resolve;
        });
        const consumer = await consumeGenerationJobs({
          url: database.url,
          model: "clock-test",
          concurrency: 1,
          handle: async (_job, waitedMs) => resolveWait(waitedMs),
        });
        const ms = await waited;
        await consumer.stop();
        expect(ms).toBeGreaterThanOrEqual(0);
        // Measured against this process's clock it would be an hour and more.
        expect(ms).toBeLessThan(HOUR_MS / 2);
      } finally {
        await handle.close();
        await database.drop();
      }
    });
  },
);
