import { readFileSync } from "node:fs";
import { CreateSession, SendRec, UploadImage } from "./documents.js";
import { request } from "./http.js";
import { followMessage, type MessageEvent } from "./stream.js";

export interface ExampleOptions {
  /** The server, e.g. http://127.0.0.1:4000 (`padt serve`). */
  url: string;
  /** An API key (`padt serve` prints a local one on first start; `padt keys create` makes more). */
  key: string;
  /** A PNG, JPEG or WebP file. */
  image: string;
  /** What to find on it (REC: referring expression comprehension). */
  expression: string;
  log?: (line: string) => void;
}

export interface DecodedRef {
  index: number;
  label: string | null;
  patches: number[];
  box: { x: number; y: number; width: number; height: number } | null;
}

export interface ExampleResult {
  sessionId: string;
  messageId: string;
  /** The answer's text as streamed (the TextDelta texts in order). */
  text: string;
  /** Each visual reference as the decoder finished it. */
  refs: DecodedRef[];
  /** The seq of every event received, across both connections. */
  seqs: number[];
  /** Where the first connection was cut; the second resumed after it. */
  droppedAfterSeq: number;
  end: "MessageCompleted" | "MessageFailed" | "MessageCancelled";
}

/**
 * The client's whole journey: a session, an image, a REC request, its answer streamed over
 * graphql-ws, and, halfway, a lost connection that is resumed with afterSeq so that nothing is
 * missed and nothing is shown twice.
 */
export async function runExample(options: ExampleOptions): Promise<ExampleResult> {
  const { url, key } = options;
  const log = options.log ?? (() => {});

  const { createSession } = await request(url, key, CreateSession, { title: "node example" });
  const { uploadImage } = await request(url, key, UploadImage, {
    base64: readFileSync(options.image).toString("base64"),
    mimeType: null,
  });
  log(
    `session ${createSession.id}, image ${uploadImage.id} (${uploadImage.width}x${uploadImage.height})`,
  );

  const { sendMessage } = await request(url, key, SendRec, {
    sessionId: createSession.id,
    imageId: uploadImage.id,
    expression: options.expression,
  });
  const messageId = sendMessage.assistantMessage.id;
  log(`REC "${options.expression}" -> answer ${messageId}`);

  const result: ExampleResult = {
    sessionId: createSession.id,
    messageId,
    text: "",
    refs: [],
    seqs: [],
    droppedAfterSeq: 0,
    end: "MessageCompleted",
  };
  let lastSeq = 0;
  // The answer as a person reads it: each object's label where the model pointed at it.
  let shown = "";
  const apply = (event: MessageEvent) => {
    // A replay never repeats what we have, but a careful client checks anyway.
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    result.seqs.push(event.seq);
    switch (event.__typename) {
      case "TextDelta":
        result.text += event.text;
        shown += event.text;
        break;
      case "VisualRefStarted":
        shown += `[${event.ref.label ?? `object ${event.ref.index}`}]`;
        log(`  [${event.seq}] object ${event.ref.index} started`);
        break;
      case "VisualRefDecoded":
        result.refs.push(event.ref);
        log(`  [${event.seq}] object ${event.ref.index}: box ${JSON.stringify(event.ref.box)}`);
        break;
      case "MessageFailed":
        log(`  [${event.seq}] failed: ${event.error.code}: ${event.error.message}`);
        result.end = event.__typename;
        break;
      case "MessageCompleted":
      case "MessageCancelled":
        result.end = event.__typename;
        break;
    }
  };

  // First connection: cut after the first event, as a flaky network would.
  const first = await followMessage(url, key, messageId, 0, (event) => {
    apply(event);
    return "drop";
  });
  result.droppedAfterSeq = lastSeq;
  if (first === "dropped") log(`connection lost after seq ${lastSeq}; resuming`);

  // Second connection: the server replays the stored events after lastSeq, then goes live.
  await followMessage(url, key, messageId, lastSeq, (event) => {
    apply(event);
    return "continue";
  });
  log(`${result.end} at seq ${lastSeq}: ${shown}`);
  return result;
}
