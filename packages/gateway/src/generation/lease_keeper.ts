import type { Database } from "../db/database.js";
import { renewLeases } from "../db/repos/leases.js";
import type { Logger } from "../server/logger.js";
import type { Metrics } from "../server/metrics.js";

/**
 * Keeps the leases of the messages this process holds (queued here or generating) alive:
 * every third of the lease, one UPDATE renews them all. A message that is no longer
 * unfinished when renewed (cancelled through another replica, or recovered as interrupted
 * because this process stalled past its lease) is reported lost, and its holder stops.
 */
export class LeaseKeeper {
  readonly #held = new Map<string, () => void>();
  readonly #timer: NodeJS.Timeout;
  #renewing = false;

  constructor(
    private readonly db: Database,
    readonly leaseMs: number,
    private readonly logger?: Logger,
    private readonly renewals?: Metrics["leaseRenewals"],
  ) {
    this.#timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.#timer.unref();
  }

  hold(messageId: string, onLost: () => void): void {
    this.#held.set(messageId, onLost);
  }

  release(messageId: string): void {
    this.#held.delete(messageId);
  }

  /** One renewal round (the timer's; exported for shutdown and tests). */
  async renew(): Promise<void> {
    if (this.#renewing || this.#held.size === 0) return;
    this.#renewing = true;
    try {
      const ids = [...this.#held.keys()];
      const kept = await renewLeases(this.db, ids, this.leaseMs);
      this.renewals?.inc({ outcome: "kept" }, kept.size);
      this.renewals?.inc({ outcome: "lost" }, ids.length - kept.size);
      for (const id of ids) {
        if (kept.has(id)) continue;
        const onLost = this.#held.get(id);
        this.#held.delete(id);
        onLost?.();
      }
    } catch (error) {
      // The database is unreachable: try again next round; if the lease runs out meanwhile,
      // another replica recovers the message and the next successful round reports it lost.
      this.logger?.warn({ err: error }, "lease renewal failed");
      this.renewals?.inc({ outcome: "failed" }, this.#held.size);
    } finally {
      this.#renewing = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
