import type { SessionMessagesQuery } from "../gql/graphql.js";
import type { Segment, StreamState } from "./stream.js";
import type { ImageInfo, VisualRef } from "./types.js";

/** What the user asked, in words: the task, its inputs, the regions marked. */
export interface TurnDescription {
  task: string | null;
  /** e.g. `“red circle”`, or the categories, or the text of a free-chat message. */
  summary: string;
  regions: number;
}

export interface Turn {
  description: TurnDescription;
  assistantId: string;
  /** The image the question was about (earlier chips switch the view back to it). */
  imageId: string | null;
  initial?: StreamState;
  /** The exact operation and variables sent, for "copy as curl". */
  request?: { query: string; variables: Record<string, unknown> };
}

/** A stored message as SESSION_MESSAGES (queries.ts) reads it. */
export type StoredMessage = NonNullable<
  SessionMessagesQuery["session"]
>["messages"]["edges"][number]["node"];

/** A session's stored messages as turns (finished answers are shown as stored) and its images. */
export function turnsFromMessages(messages: StoredMessage[]): {
  turns: Turn[];
  images: ImageInfo[];
} {
  const turns: Turn[] = [];
  const images: ImageInfo[] = [];
  let description: TurnDescription = { task: null, summary: "", regions: 0 };
  let imageId: string | null = null;
  for (const m of messages) {
    if (m.role === "USER") {
      let regions = 0;
      for (const p of m.parts) {
        if (p.__typename === "ImagePart") {
          imageId = p.image.id;
          if (!images.some((i) => i.id === p.image.id)) images.push(p.image);
        }
        if (p.__typename === "VisualRefPart") regions++;
      }
      description = { task: m.task, summary: m.text, regions };
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
      description,
      assistantId: m.id,
      imageId,
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
  return { turns, images };
}

/** A short title for a chat from its first request, e.g. `REC: red circle`. */
export function titleOf(description: TurnDescription): string {
  const head = description.task ? description.task.toUpperCase() : "Chat";
  const body = description.summary || (description.regions ? "marked region" : "image");
  return `${head}: ${body}`.slice(0, 60);
}
