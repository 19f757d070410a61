import type { Segment, StreamState, StreamStatus } from "./stream.js";
import type { ImageInfo, MessageError, VisualRef } from "./types.js";

export interface Turn {
  userText: string;
  assistantId: string;
  initial?: StreamState;
}

type StoredPart =
  | { __typename: "TextPart"; text: string }
  | { __typename: "ImagePart"; image: ImageInfo }
  | { __typename: "VisualRefPart"; ref: VisualRef };

export interface StoredMessage {
  id: string;
  role: "USER" | "ASSISTANT";
  status: StreamStatus;
  task: string | null;
  text: string;
  lastSeq: number;
  error: MessageError | null;
  parts: StoredPart[];
}

/** A session's stored messages as turns (finished answers are shown as stored) and its last image. */
export function turnsFromMessages(messages: StoredMessage[]): {
  turns: Turn[];
  image: ImageInfo | null;
} {
  const turns: Turn[] = [];
  let image: ImageInfo | null = null;
  let userText = "";
  for (const m of messages) {
    if (m.role === "USER") {
      for (const p of m.parts) if (p.__typename === "ImagePart") image = p.image;
      userText = [m.task ? `[${m.task}]` : "", m.text].filter(Boolean).join(" ");
      continue;
    }
    const streaming = m.status === "PENDING" || m.status === "STREAMING";
    const segments: Segment[] = [];
    const refs: Record<number, VisualRef> = {};
    for (const p of m.parts) {
      if (p.__typename === "TextPart") segments.push({ kind: "text", text: p.text });
      if (p.__typename === "VisualRefPart") {
        segments.push({ kind: "ref", index: p.ref.index });
        refs[p.ref.index] = p.ref;
      }
    }
    turns.push({
      userText,
      assistantId: m.id,
      // An answer still streaming is replayed from the start by its subscription.
      initial: streaming
        ? undefined
        : {
            messageId: m.id,
            lastSeq: m.lastSeq,
            segments,
            refs,
            status: m.status,
            error: m.error,
            result: null,
          },
    });
  }
  return { turns, image };
}
