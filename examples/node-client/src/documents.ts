// The operations this client sends. `npm run codegen` (repository root) reads these graphql()
// calls and packages/gateway/schema.graphql and writes ./gql, whose overloads give each
// document its result and variable types: a field the schema lacks fails the type check here,
// not at run time against a server.
import { graphql } from "./gql/index.js";

export const CreateSession = graphql(`
  mutation ExampleCreateSession($title: String) {
    createSession(input: { title: $title }) { id }
  }
`);

export const UploadImage = graphql(`
  mutation ExampleUploadImage($base64: String!, $mimeType: String) {
    uploadImage(input: { base64: $base64, mimeType: $mimeType }) { id width height }
  }
`);

export const SendRec = graphql(`
  mutation ExampleSendRec($sessionId: ID!, $imageId: ID!, $expression: String!) {
    sendMessage(
      input: {
        sessionId: $sessionId
        parts: [{ imageId: $imageId }]
        task: { rec: { expression: $expression } }
      }
    ) {
      assistantMessage { id status }
    }
  }
`);

export const MessageEvents = graphql(`
  subscription ExampleMessageEvents($messageId: ID!, $afterSeq: Int) {
    messageEvents(messageId: $messageId, afterSeq: $afterSeq) {
      __typename
      ... on TextDelta { seq text }
      ... on VisualRefStarted { seq ref { index label } }
      ... on VisualRefDecoded { seq ref { index label patches box { x y width height } score } }
      ... on MessageCompleted { seq }
      ... on MessageFailed { seq error { code message } }
      ... on MessageCancelled { seq }
    }
  }
`);
