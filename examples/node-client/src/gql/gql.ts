/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation ExampleCreateSession($title: String) {\n    createSession(input: { title: $title }) { id }\n  }\n": typeof types.ExampleCreateSessionDocument,
    "\n  mutation ExampleUploadImage($base64: String!, $mimeType: String) {\n    uploadImage(input: { base64: $base64, mimeType: $mimeType }) { id width height }\n  }\n": typeof types.ExampleUploadImageDocument,
    "\n  mutation ExampleSendRec($sessionId: ID!, $imageId: ID!, $expression: String!) {\n    sendMessage(\n      input: {\n        sessionId: $sessionId\n        parts: [{ imageId: $imageId }]\n        task: { rec: { expression: $expression } }\n      }\n    ) {\n      assistantMessage { id status }\n    }\n  }\n": typeof types.ExampleSendRecDocument,
    "\n  subscription ExampleMessageEvents($messageId: ID!, $afterSeq: Int) {\n    messageEvents(messageId: $messageId, afterSeq: $afterSeq) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { index label } }\n      ... on VisualRefDecoded { seq ref { index label patches box { x y width height } score } }\n      ... on MessageCompleted { seq }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq }\n    }\n  }\n": typeof types.ExampleMessageEventsDocument,
};
const documents: Documents = {
    "\n  mutation ExampleCreateSession($title: String) {\n    createSession(input: { title: $title }) { id }\n  }\n": types.ExampleCreateSessionDocument,
    "\n  mutation ExampleUploadImage($base64: String!, $mimeType: String) {\n    uploadImage(input: { base64: $base64, mimeType: $mimeType }) { id width height }\n  }\n": types.ExampleUploadImageDocument,
    "\n  mutation ExampleSendRec($sessionId: ID!, $imageId: ID!, $expression: String!) {\n    sendMessage(\n      input: {\n        sessionId: $sessionId\n        parts: [{ imageId: $imageId }]\n        task: { rec: { expression: $expression } }\n      }\n    ) {\n      assistantMessage { id status }\n    }\n  }\n": types.ExampleSendRecDocument,
    "\n  subscription ExampleMessageEvents($messageId: ID!, $afterSeq: Int) {\n    messageEvents(messageId: $messageId, afterSeq: $afterSeq) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { index label } }\n      ... on VisualRefDecoded { seq ref { index label patches box { x y width height } score } }\n      ... on MessageCompleted { seq }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq }\n    }\n  }\n": types.ExampleMessageEventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExampleCreateSession($title: String) {\n    createSession(input: { title: $title }) { id }\n  }\n"): (typeof documents)["\n  mutation ExampleCreateSession($title: String) {\n    createSession(input: { title: $title }) { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExampleUploadImage($base64: String!, $mimeType: String) {\n    uploadImage(input: { base64: $base64, mimeType: $mimeType }) { id width height }\n  }\n"): (typeof documents)["\n  mutation ExampleUploadImage($base64: String!, $mimeType: String) {\n    uploadImage(input: { base64: $base64, mimeType: $mimeType }) { id width height }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExampleSendRec($sessionId: ID!, $imageId: ID!, $expression: String!) {\n    sendMessage(\n      input: {\n        sessionId: $sessionId\n        parts: [{ imageId: $imageId }]\n        task: { rec: { expression: $expression } }\n      }\n    ) {\n      assistantMessage { id status }\n    }\n  }\n"): (typeof documents)["\n  mutation ExampleSendRec($sessionId: ID!, $imageId: ID!, $expression: String!) {\n    sendMessage(\n      input: {\n        sessionId: $sessionId\n        parts: [{ imageId: $imageId }]\n        task: { rec: { expression: $expression } }\n      }\n    ) {\n      assistantMessage { id status }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ExampleMessageEvents($messageId: ID!, $afterSeq: Int) {\n    messageEvents(messageId: $messageId, afterSeq: $afterSeq) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { index label } }\n      ... on VisualRefDecoded { seq ref { index label patches box { x y width height } score } }\n      ... on MessageCompleted { seq }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq }\n    }\n  }\n"): (typeof documents)["\n  subscription ExampleMessageEvents($messageId: ID!, $afterSeq: Int) {\n    messageEvents(messageId: $messageId, afterSeq: $afterSeq) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { index label } }\n      ... on VisualRefDecoded { seq ref { index label patches box { x y width height } score } }\n      ... on MessageCompleted { seq }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;