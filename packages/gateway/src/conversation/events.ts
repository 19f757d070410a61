import type { Box, RleMask } from "@padt/engine";

/** A visual reference as stream events carry it (self-contained, so replays need no join). */
export interface RefPayload {
  index: number;
  label: string | null;
  imageId: string;
  patches: number[];
  decoded: boolean;
  box: Box | null;
  mask: RleMask | null;
  score: number | null;
}

/** message_events.payload by event type: the one list of stored and streamed event types. */
export type EventPayloads = {
  text_delta: { text: string };
  visual_ref_started: { ref: RefPayload };
  visual_ref_decoded: { ref: RefPayload };
  completed: { usage: unknown };
  failed: { error: { code: string; message: string } };
  cancelled: Record<string, never>;
  interrupted: Record<string, never>;
};

export type MessageEventType = keyof EventPayloads;

/** Each event type's GraphQL object type and whether it ends a message's stream. */
export const MESSAGE_EVENT_TYPES = {
  text_delta: { graphql: "TextDelta", terminal: false },
  visual_ref_started: { graphql: "VisualRefStarted", terminal: false },
  visual_ref_decoded: { graphql: "VisualRefDecoded", terminal: false },
  completed: { graphql: "MessageCompleted", terminal: true },
  failed: { graphql: "MessageFailed", terminal: true },
  cancelled: { graphql: "MessageCancelled", terminal: true },
  // A generation its server lost: reported as a failure with code INTERRUPTED.
  interrupted: { graphql: "MessageFailed", terminal: true },
} as const satisfies Record<MessageEventType, { graphql: string; terminal: boolean }>;

export function isTerminalEvent(type: MessageEventType): boolean {
  return MESSAGE_EVENT_TYPES[type].terminal;
}
