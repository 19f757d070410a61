// Every operation the page sends, typed by GraphQL Code Generator (`npm run codegen` writes
// ../gql from these calls and packages/gateway/schema.graphql). Each string must stay a literal:
// the generated overloads of graphql() are keyed by the exact text.
import { type DocumentNode, Kind, visit } from "graphql";
import { graphql } from "../gql/index.js";
import type { TaskInfo } from "./types.js";

graphql(`
  fragment VisualRefFields on VisualRef {
    id
    index
    label
    patches
    decoded
    score
    box { x y width height }
    mask { width height counts area }
    image { id }
  }
`);

graphql(`
  fragment ImageFields on Image {
    id
    width
    height
    gridWidth
    gridHeight
    url
  }
`);

export const START_QUERY = graphql(`
  query Start {
    viewer { id name }
    model { name executionProvider dtype fallbackReason freeChat multiTurn }
    tasks { name description inputType resultType inputField supported }
  }
`);

export const SESSIONS_QUERY = graphql(`
  query Sessions {
    sessions(first: 50) { edges { node { id title updatedAt } } }
  }
`);

export const RENAME_SESSION = graphql(`
  mutation Rename($id: ID!, $t: String!) {
    renameSession(id: $id, title: $t) { id title updatedAt }
  }
`);

export const DELETE_SESSION = graphql(`
  mutation Delete($id: ID!) {
    deleteSession(id: $id)
  }
`);

export const CREATE_SESSION = graphql(`
  mutation CreateSession($title: String) {
    createSession(input: { title: $title }) { id title updatedAt }
  }
`);

export const UPLOAD_IMAGE = graphql(`
  mutation Upload($b: String!, $m: String, $f: String) {
    uploadImage(input: { base64: $b, mimeType: $m, filename: $f }) { ...ImageFields }
  }
`);

export const SEND_MESSAGE = graphql(`
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) { userMessage { id } assistantMessage { id status } }
  }
`);

export const CANCEL = graphql(`
  mutation Cancel($m: ID!) {
    cancelGeneration(messageId: $m) { id status }
  }
`);

export const MESSAGE_EVENTS = graphql(`
  subscription Events($m: ID!, $after: Int) {
    messageEvents(messageId: $m, afterSeq: $after) {
      __typename
      ... on TextDelta { seq text }
      ... on VisualRefStarted { seq ref { ...VisualRefFields } }
      ... on VisualRefDecoded { seq ref { ...VisualRefFields } }
      ... on MessageCompleted { seq message { status } }
      ... on MessageFailed { seq error { code message } }
      ... on MessageCancelled { seq message { status } }
    }
  }
`);

/** An answer's end state and typed result, for every result type of the published schema. */
const MESSAGE_RESULT = graphql(`
  query Message($m: ID!) {
    message(id: $m) {
      id
      status
      text
      lastSeq
      error { code message }
      usage { promptTokens completionTokens prefillMs decodeMs decoderMs }
      result {
        __typename
        ... on TextResult { text }
        ... on RecResult { expression partial issues ref { ...VisualRefFields } }
        ... on ResResult { expression area partial issues ref { ...VisualRefFields } }
        ... on OvdResult {
          partial
          issues
          unknownLabels
          detections { label score ref { ...VisualRefFields } }
        }
        ... on RicResult {
          caption
          partial
          issues
          phrases { text start end refs { ...VisualRefFields } }
        }
      }
    }
  }
`);

const resultQueries = new Map<string, typeof MESSAGE_RESULT>();

/**
 * MESSAGE_RESULT without the result types this server does not have: a server may run without
 * some shipped plugins, and a fragment on a type it lacks fails validation. The data then lacks
 * only variants that cannot occur, so the generated type still holds.
 */
export function messageQuery(tasks: TaskInfo[]): typeof MESSAGE_RESULT {
  const known = new Set(["TextResult", ...tasks.map((t) => t.resultType ?? "")]);
  const key = [...known].sort().join(",");
  let query = resultQueries.get(key);
  if (!query) {
    query = visit(MESSAGE_RESULT as DocumentNode, {
      [Kind.INLINE_FRAGMENT]: (node) =>
        node.typeCondition && !known.has(node.typeCondition.name.value) ? null : undefined,
    }) as typeof MESSAGE_RESULT;
    resultQueries.set(key, query);
  }
  return query;
}

/** A session's last messages; answers load their typed result themselves (query cost limits). */
export const SESSION_MESSAGES = graphql(`
  query SessionMessages($s: ID!) {
    session(id: $s) {
      id
      title
      messages(last: 20) {
        edges {
          node {
            id
            role
            status
            task
            text
            lastSeq
            error { code message }
            parts {
              __typename
              ... on TextPart { text }
              ... on ImagePart { image { ...ImageFields } }
              ... on VisualRefPart { ref { ...VisualRefFields } }
            }
          }
        }
      }
    }
  }
`);
