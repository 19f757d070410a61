import type { EventsSubscription, MessageStatus } from "../gql/graphql.js";
import type { MessageError, TaskResult, Usage, VisualRef } from "./types.js";

export type Segment = { kind: "text"; text: string } | { kind: "ref"; index: number };

export type StreamStatus = MessageStatus;

/** One assistant answer as it streams: text and chips in arrival order, refs by index. */
export interface StreamState {
  messageId: string;
  lastSeq: number;
  segments: Segment[];
  refs: Record<number, VisualRef>;
  status: StreamStatus;
  error: MessageError | null;
  result: TaskResult | null;
  /** Read with the result once the answer has ended. */
  usage?: Usage | null;
}

/** One messageEvents event, as the page's subscription (queries.ts) selects it. */
export type MessageEvent = EventsSubscription["messageEvents"];

export function emptyStream(messageId: string): StreamState {
  return {
    messageId,
    lastSeq: 0,
    segments: [],
    refs: {},
    status: "PENDING",
    error: null,
    result: null,
  };
}

export const isFinished = (status: StreamStatus) => status !== "PENDING" && status !== "STREAMING";

/** Applies one event; events at or before lastSeq (replays after a reconnect) change nothing. */
export function applyEvent(state: StreamState, event: MessageEvent): StreamState {
  if (event.seq <= state.lastSeq) return state;
  const next: StreamState = { ...state, lastSeq: event.seq };
  switch (event.__typename) {
    case "TextDelta": {
      const last = state.segments.at(-1);
      next.status = "STREAMING";
      next.segments =
        last?.kind === "text"
          ? [...state.segments.slice(0, -1), { kind: "text", text: last.text + event.text }]
          : [...state.segments, { kind: "text", text: event.text }];
      return next;
    }
    case "VisualRefStarted":
    case "VisualRefDecoded": {
      const { ref } = event;
      next.status = "STREAMING";
      if (!(ref.index in state.refs))
        next.segments = [...state.segments, { kind: "ref", index: ref.index }];
      next.refs = { ...state.refs, [ref.index]: ref };
      return next;
    }
    case "MessageCompleted":
    case "MessageCancelled":
      next.status = event.message.status;
      return next;
    case "MessageFailed":
      next.status = "FAILED";
      next.error = event.error;
      return next;
    default: {
      const never: never = event;
      return never;
    }
  }
}
