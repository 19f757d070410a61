import { is } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { Database } from "./database.js";
import type { MessageEvent } from "./schema.js";

/** Answers whose latest events are kept (the least recently written go first). */
const MAX_MESSAGES = 128;
/** Events kept per answer (the oldest go first; a subscriber further behind reads the table). */
const MAX_ROWS = 256;

/**
 * Stream events this process committed to the events table, per answer, so that its own
 * subscribers (`--role all`: the writer and the subscriber in one process) catch up without
 * reading back what was just written: one statement per written batch instead of two.
 *
 * Only what this process wrote is here, so a subscriber uses it only when it holds every
 * event after the subscriber's last seq up to the highest seq announced to it (each commit
 * is announced with its last seq, from whichever process wrote it); otherwise it reads the
 * table, as before. So the stream stays in order and gap-free whoever writes: another
 * replica's cancel, a lease sweep, a `padt worker` (whose gateway never holds its events).
 */
export class RecentEvents {
  readonly #byMessage = new Map<string, MessageEvent[]>();

  constructor(
    private readonly maxMessages = MAX_MESSAGES,
    private readonly maxRows = MAX_ROWS,
  ) {}

  /** Committed rows of one answer, consecutive seqs in order (as appendEvents returns them). */
  record(messageId: string, rows: readonly MessageEvent[]): void {
    const first = rows[0];
    if (!first) return;
    const held = this.#byMessage.get(messageId);
    // Not following on from what is held (someone else wrote in between): start again.
    const follows = held !== undefined && held.at(-1)!.seq + 1 === first.seq;
    let list = follows ? held.concat(rows) : [...rows];
    if (list.length > this.maxRows) list = list.slice(-this.maxRows);
    this.#byMessage.delete(messageId);
    this.#byMessage.set(messageId, list);
    for (const oldest of this.#byMessage.keys()) {
      if (this.#byMessage.size <= this.maxMessages) break;
      this.#byMessage.delete(oldest);
    }
  }

  /**
   * Up to `limit` events after `afterSeq`, in order, when this holds all of them through
   * `through` (at least one); undefined otherwise (read the table).
   */
  after(
    messageId: string,
    afterSeq: number,
    through: number,
    limit: number,
  ): MessageEvent[] | undefined {
    const list = this.#byMessage.get(messageId);
    if (!list || through <= afterSeq) return undefined;
    const first = list[0]!.seq;
    const last = list.at(-1)!.seq;
    if (afterSeq + 1 < first || last < through) return undefined;
    const from = afterSeq + 1 - first;
    return list.slice(from, from + limit);
  }

  get size(): number {
    return this.#byMessage.size;
  }
}

const byHandle = new WeakMap<Database, RecentEvents>();

/**
 * The recent events of a database handle; undefined inside a transaction (nothing in it is
 * committed yet, and the handle it belongs to is not known there).
 */
export function recentEventsOf(db: Database): RecentEvents | undefined {
  if (is(db, PgTransaction)) return undefined;
  let recent = byHandle.get(db);
  if (!recent) {
    recent = new RecentEvents();
    byHandle.set(db, recent);
  }
  return recent;
}
