import type { TaskInfo } from "./types.js";

const REF = `id index label patches decoded score box { x y width height } mask { width height counts area } image { id }`;
const IMAGE = `id width height gridWidth gridHeight url`;

export const START_QUERY = `query Start {
  viewer { id name }
  model { name executionProvider dtype fallbackReason freeChat }
  tasks { name description inputType resultType inputField supported }
}`;

export const SESSIONS_QUERY = `query Sessions { sessions(first: 50) { edges { node { id title updatedAt } } } }`;

export const RENAME_SESSION = `mutation Rename($id: ID!, $t: String!) { renameSession(id: $id, title: $t) { id title updatedAt } }`;

export const DELETE_SESSION = `mutation Delete($id: ID!) { deleteSession(id: $id) }`;

export const CREATE_SESSION = `mutation CreateSession($title: String) { createSession(input: { title: $title }) { id title updatedAt } }`;

export const UPLOAD_IMAGE = `mutation Upload($b: String!, $m: String, $f: String) {
  uploadImage(input: { base64: $b, mimeType: $m, filename: $f }) { ${IMAGE} }
}`;

export const SEND_MESSAGE = `mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { userMessage { id } assistantMessage { id status } }
}`;

export const CANCEL = `mutation Cancel($m: ID!) { cancelGeneration(messageId: $m) { id status } }`;

export const MESSAGE_EVENTS = `subscription Events($m: ID!, $after: Int) {
  messageEvents(messageId: $m, afterSeq: $after) {
    __typename
    ... on TextDelta { seq text }
    ... on VisualRefStarted { seq ref { ${REF} } }
    ... on VisualRefDecoded { seq ref { ${REF} } }
    ... on MessageCompleted { seq message { status } }
    ... on MessageFailed { seq error { code message } }
    ... on MessageCancelled { seq message { status } }
  }
}`;

/** Fragments for the result types the server has (a fragment on an unknown type is an error). */
const RESULT_FRAGMENTS: Record<string, string> = {
  TextResult: `... on TextResult { text }`,
  RecResult: `... on RecResult { expression partial issues ref { ${REF} } }`,
  ResResult: `... on ResResult { expression area partial issues ref { ${REF} } }`,
  OvdResult: `... on OvdResult { partial issues unknownLabels detections { label score ref { ${REF} } } }`,
  RicResult: `... on RicResult { caption partial issues phrases { text start end refs { ${REF} } } }`,
};

function resultSelection(tasks: TaskInfo[]): string {
  const known = new Set(["TextResult", ...tasks.map((t) => t.resultType ?? "")]);
  const parts = Object.entries(RESULT_FRAGMENTS)
    .filter(([type]) => known.has(type))
    .map(([, fragment]) => fragment);
  return `result { __typename ${parts.join(" ")} }`;
}

export function messageQuery(tasks: TaskInfo[]): string {
  return `query Message($m: ID!) { message(id: $m) { id status text lastSeq error { code message } usage { promptTokens completionTokens prefillMs decodeMs decoderMs } ${resultSelection(tasks)} } }`;
}

/** A session's last messages; answers load their typed result themselves (query cost limits). */
export const SESSION_MESSAGES = `query SessionMessages($s: ID!) { session(id: $s) { id title messages(last: 20) { edges { node {
  id role status task text lastSeq error { code message }
  parts { __typename ... on TextPart { text } ... on ImagePart { image { ${IMAGE} } } ... on VisualRefPart { ref { ${REF} } } }
} } } } }`;
