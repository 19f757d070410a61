// The gateway benches' workload: one REC conversation on the tiny random fixture's image,
// through the API (upload, session, sendMessage, messageEvents to the end) or as the same
// request to the engine directly (the baseline the gateway's overhead is a ratio of).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { recTask } from "@padt/tasks-rec";
import { root } from "./processes.mjs";

const EXPRESSION = "red circle";
const imageBytes = new Uint8Array(
  readFileSync(join(root, "tests/fixtures/padt-tiny-random.images/rec_200x150_0.png")),
);
const imageBase64 = Buffer.from(imageBytes).toString("base64");

/** Rejects with `what` past `ms`, else settles as `promise` does. */
export const withTimeout = (promise, what, ms) =>
  Promise.race([
    promise,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);

/** The chat turns the REC plugin builds for the conversation, for `engine.generate`. */
export const recTurns = () => [
  {
    role: "user",
    content: [
      { type: "image", data: imageBytes },
      { type: "text", text: recTask.buildPrompt({ expression: EXPRESSION }) },
    ],
  },
];

/**
 * One conversation through `gql` (httpGql) and `ws` (socketFor): `onStep(name)` after each
 * request, `onEvent(event)` for each messageEvents item; `timeoutMs` bounds the stream.
 * Resolves with the last event.
 */
export async function recConversation({ gql, ws, tokens, onStep = () => {}, onEvent, timeoutMs }) {
  const image = (
    await gql(`mutation($b: String!) { uploadImage(input: { base64: $b }) { id } }`, {
      b: imageBase64,
    })
  ).uploadImage;
  onStep("uploadImage");
  const session = (await gql(`mutation { createSession(input: { title: "bench" }) { id } }`))
    .createSession;
  onStep("createSession");
  const sent = await gql(
    `mutation($s: ID!, $i: ID!, $e: String!, $t: Int!) { sendMessage(input: {
      sessionId: $s, parts: [{ imageId: $i }], task: { rec: { expression: $e } },
      options: { maxNewTokens: $t } }) { assistantMessage { id } } }`,
    { s: session.id, i: image.id, e: EXPRESSION, t: tokens },
  );
  onStep("sendMessage");
  let last;
  const streamed = new Promise((resolve, reject) => {
    ws.subscribe(
      {
        query: `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) { __typename ... on MessageFailed { error { code message } } } }`,
        variables: { m: sent.sendMessage.assistantMessage.id },
      },
      {
        next: (r) => {
          last = r.data?.messageEvents;
          onEvent?.(last);
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  await (timeoutMs ? withTimeout(streamed, "messageEvents", timeoutMs) : streamed);
  return last;
}
