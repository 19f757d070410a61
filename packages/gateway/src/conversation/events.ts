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

/** message_events.payload by event type. */
export type EventPayloads = {
  text_delta: { text: string };
  visual_ref_started: { ref: RefPayload };
  visual_ref_decoded: { ref: RefPayload };
  completed: { usage: unknown };
  failed: { error: { code: string; message: string } };
  cancelled: Record<string, never>;
  interrupted: Record<string, never>;
};

export const TERMINAL_EVENTS = new Set(["completed", "failed", "cancelled", "interrupted"]);
