import { describe, expect, it } from "vitest";
import { RecentEvents } from "../src/db/recent_events.js";
import type { MessageEvent } from "../src/db/schema.js";

const rows = (messageId: string, from: number, to: number): MessageEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    messageId,
    seq: from + i,
    type: "text_delta",
    payload: { text: String(from + i) },
    createdAt: new Date(0),
  }));
const seqs = (events: MessageEvent[] | undefined) => events?.map((e) => e.seq);

describe("RecentEvents", () => {
  it("answers only when it holds every event after the seq through the one asked for", () => {
    const recent = new RecentEvents();
    recent.record("m", rows("m", 1, 3));
    expect(seqs(recent.after("m", 0, 3, 10))).toEqual([1, 2, 3]);
    expect(seqs(recent.after("m", 1, 2, 10))).toEqual([2, 3]);
    expect(seqs(recent.after("m", 0, 3, 2))).toEqual([1, 2]);
    expect(recent.after("m", 0, 4, 10)).toBeUndefined(); // 4 was announced, not held
    expect(recent.after("m", 3, 3, 10)).toBeUndefined(); // nothing new: the caller reads
    expect(recent.after("other", 0, 1, 10)).toBeUndefined();
  });

  it("starts again after a gap (rows written elsewhere), so it never skips one", () => {
    const recent = new RecentEvents();
    recent.record("m", rows("m", 1, 2));
    recent.record("m", rows("m", 4, 5));
    expect(recent.after("m", 2, 5, 10)).toBeUndefined();
    expect(seqs(recent.after("m", 3, 5, 10))).toEqual([4, 5]);
    recent.record("m", rows("m", 6, 6));
    expect(seqs(recent.after("m", 3, 6, 10))).toEqual([4, 5, 6]);
  });

  it("keeps at most its rows per answer and its answers, dropping the oldest", () => {
    const recent = new RecentEvents(2, 3);
    recent.record("a", rows("a", 1, 5));
    expect(recent.after("a", 1, 5, 10)).toBeUndefined(); // 2 is gone
    expect(seqs(recent.after("a", 2, 5, 10))).toEqual([3, 4, 5]);
    recent.record("b", rows("b", 1, 1));
    recent.record("a", rows("a", 6, 6)); // a is now the most recent
    recent.record("c", rows("c", 1, 1));
    expect(recent.size).toBe(2);
    expect(recent.after("b", 0, 1, 10)).toBeUndefined();
    expect(seqs(recent.after("a", 5, 6, 10))).toEqual([6]);
    expect(seqs(recent.after("c", 0, 1, 10))).toEqual([1]);
  });
});
