import { describe, expect, it } from "vitest";
import { applyEvent, emptyStream, type MessageEvent } from "../src/lib/stream.js";
import type { VisualRef } from "../src/lib/types.js";

const ref = (decoded: boolean): VisualRef => ({
  id: "r0",
  index: 0,
  label: decoded ? "circle" : null,
  patches: [3, 4],
  decoded,
  score: decoded ? 0.9 : null,
  box: decoded ? { x: 1, y: 2, width: 3, height: 4 } : null,
  mask: null,
  image: { id: "i" },
});

const events: MessageEvent[] = [
  { __typename: "TextDelta", seq: 1, text: "The " },
  { __typename: "VisualRefStarted", seq: 2, ref: ref(false) },
  { __typename: "VisualRefDecoded", seq: 3, ref: ref(true) },
  { __typename: "TextDelta", seq: 4, text: " is " },
  { __typename: "TextDelta", seq: 5, text: "red." },
  { __typename: "MessageCompleted", seq: 6, message: { status: "COMPLETE" } },
];

describe("answer stream state", () => {
  it("builds text and one chip per ref, filled in when decoded", () => {
    const state = events.reduce(applyEvent, emptyStream("m"));
    expect(state.segments).toEqual([
      { kind: "text", text: "The " },
      { kind: "ref", index: 0 },
      { kind: "text", text: " is red." },
    ]);
    expect(state.refs[0]).toMatchObject({ decoded: true, label: "circle", score: 0.9 });
    expect(state.status).toBe("COMPLETE");
    expect(state.lastSeq).toBe(6);
  });

  it("ignores events replayed after a reconnect, so no text is duplicated", () => {
    const firstHalf = events.slice(0, 4).reduce(applyEvent, emptyStream("m"));
    // A resumed subscription (or a retried one that replays from the start) sends seqs again.
    const resumed = [...events.slice(0, 4), ...events.slice(2)].reduce(applyEvent, firstHalf);
    expect(resumed).toEqual(events.reduce(applyEvent, emptyStream("m")));
  });
});
