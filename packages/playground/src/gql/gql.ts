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
    "\n  fragment VisualRefFields on VisualRef {\n    id\n    index\n    label\n    patches\n    decoded\n    score\n    box { x y width height }\n    mask { width height counts area }\n    image { id }\n  }\n": typeof types.VisualRefFieldsFragmentDoc,
    "\n  fragment ImageFields on Image {\n    id\n    width\n    height\n    gridWidth\n    gridHeight\n    url\n  }\n": typeof types.ImageFieldsFragmentDoc,
    "\n  query Start {\n    viewer { id name }\n    model { name executionProvider dtype fallbackReason freeChat multiTurn }\n    tasks { name description inputType resultType inputField supported }\n  }\n": typeof types.StartDocument,
    "\n  query Sessions {\n    sessions(first: 50) { edges { node { id title updatedAt } } }\n  }\n": typeof types.SessionsDocument,
    "\n  mutation Rename($id: ID!, $t: String!) {\n    renameSession(id: $id, title: $t) { id title updatedAt }\n  }\n": typeof types.RenameDocument,
    "\n  mutation Delete($id: ID!) {\n    deleteSession(id: $id)\n  }\n": typeof types.DeleteDocument,
    "\n  mutation CreateSession($title: String) {\n    createSession(input: { title: $title }) { id title updatedAt }\n  }\n": typeof types.CreateSessionDocument,
    "\n  mutation Upload($b: String!, $m: String, $f: String) {\n    uploadImage(input: { base64: $b, mimeType: $m, filename: $f }) { ...ImageFields }\n  }\n": typeof types.UploadDocument,
    "\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { userMessage { id } assistantMessage { id status } }\n  }\n": typeof types.SendDocument,
    "\n  mutation Cancel($m: ID!) {\n    cancelGeneration(messageId: $m) { id status }\n  }\n": typeof types.CancelDocument,
    "\n  subscription Events($m: ID!, $after: Int) {\n    messageEvents(messageId: $m, afterSeq: $after) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { ...VisualRefFields } }\n      ... on VisualRefDecoded { seq ref { ...VisualRefFields } }\n      ... on MessageCompleted { seq message { status } }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq message { status } }\n    }\n  }\n": typeof types.EventsDocument,
    "\n  query Message($m: ID!) {\n    message(id: $m) {\n      id\n      status\n      text\n      lastSeq\n      error { code message }\n      usage { promptTokens completionTokens prefillMs decodeMs decoderMs }\n      result {\n        __typename\n        ... on TextResult { text }\n        ... on RecResult { expression partial issues ref { ...VisualRefFields } }\n        ... on ResResult { expression area partial issues ref { ...VisualRefFields } }\n        ... on OvdResult {\n          partial\n          issues\n          unknownLabels\n          detections { label score ref { ...VisualRefFields } }\n        }\n        ... on RicResult {\n          caption\n          partial\n          issues\n          phrases { text start end refs { ...VisualRefFields } }\n        }\n      }\n    }\n  }\n": typeof types.MessageDocument,
    "\n  query SessionMessages($s: ID!) {\n    session(id: $s) {\n      id\n      title\n      messages(last: 20) {\n        edges {\n          node {\n            id\n            role\n            status\n            task\n            text\n            lastSeq\n            error { code message }\n            parts {\n              __typename\n              ... on TextPart { text }\n              ... on ImagePart { image { ...ImageFields } }\n              ... on VisualRefPart { ref { ...VisualRefFields } }\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.SessionMessagesDocument,
};
const documents: Documents = {
    "\n  fragment VisualRefFields on VisualRef {\n    id\n    index\n    label\n    patches\n    decoded\n    score\n    box { x y width height }\n    mask { width height counts area }\n    image { id }\n  }\n": types.VisualRefFieldsFragmentDoc,
    "\n  fragment ImageFields on Image {\n    id\n    width\n    height\n    gridWidth\n    gridHeight\n    url\n  }\n": types.ImageFieldsFragmentDoc,
    "\n  query Start {\n    viewer { id name }\n    model { name executionProvider dtype fallbackReason freeChat multiTurn }\n    tasks { name description inputType resultType inputField supported }\n  }\n": types.StartDocument,
    "\n  query Sessions {\n    sessions(first: 50) { edges { node { id title updatedAt } } }\n  }\n": types.SessionsDocument,
    "\n  mutation Rename($id: ID!, $t: String!) {\n    renameSession(id: $id, title: $t) { id title updatedAt }\n  }\n": types.RenameDocument,
    "\n  mutation Delete($id: ID!) {\n    deleteSession(id: $id)\n  }\n": types.DeleteDocument,
    "\n  mutation CreateSession($title: String) {\n    createSession(input: { title: $title }) { id title updatedAt }\n  }\n": types.CreateSessionDocument,
    "\n  mutation Upload($b: String!, $m: String, $f: String) {\n    uploadImage(input: { base64: $b, mimeType: $m, filename: $f }) { ...ImageFields }\n  }\n": types.UploadDocument,
    "\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { userMessage { id } assistantMessage { id status } }\n  }\n": types.SendDocument,
    "\n  mutation Cancel($m: ID!) {\n    cancelGeneration(messageId: $m) { id status }\n  }\n": types.CancelDocument,
    "\n  subscription Events($m: ID!, $after: Int) {\n    messageEvents(messageId: $m, afterSeq: $after) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { ...VisualRefFields } }\n      ... on VisualRefDecoded { seq ref { ...VisualRefFields } }\n      ... on MessageCompleted { seq message { status } }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq message { status } }\n    }\n  }\n": types.EventsDocument,
    "\n  query Message($m: ID!) {\n    message(id: $m) {\n      id\n      status\n      text\n      lastSeq\n      error { code message }\n      usage { promptTokens completionTokens prefillMs decodeMs decoderMs }\n      result {\n        __typename\n        ... on TextResult { text }\n        ... on RecResult { expression partial issues ref { ...VisualRefFields } }\n        ... on ResResult { expression area partial issues ref { ...VisualRefFields } }\n        ... on OvdResult {\n          partial\n          issues\n          unknownLabels\n          detections { label score ref { ...VisualRefFields } }\n        }\n        ... on RicResult {\n          caption\n          partial\n          issues\n          phrases { text start end refs { ...VisualRefFields } }\n        }\n      }\n    }\n  }\n": types.MessageDocument,
    "\n  query SessionMessages($s: ID!) {\n    session(id: $s) {\n      id\n      title\n      messages(last: 20) {\n        edges {\n          node {\n            id\n            role\n            status\n            task\n            text\n            lastSeq\n            error { code message }\n            parts {\n              __typename\n              ... on TextPart { text }\n              ... on ImagePart { image { ...ImageFields } }\n              ... on VisualRefPart { ref { ...VisualRefFields } }\n            }\n          }\n        }\n      }\n    }\n  }\n": types.SessionMessagesDocument,
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
export function graphql(source: "\n  fragment VisualRefFields on VisualRef {\n    id\n    index\n    label\n    patches\n    decoded\n    score\n    box { x y width height }\n    mask { width height counts area }\n    image { id }\n  }\n"): (typeof documents)["\n  fragment VisualRefFields on VisualRef {\n    id\n    index\n    label\n    patches\n    decoded\n    score\n    box { x y width height }\n    mask { width height counts area }\n    image { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ImageFields on Image {\n    id\n    width\n    height\n    gridWidth\n    gridHeight\n    url\n  }\n"): (typeof documents)["\n  fragment ImageFields on Image {\n    id\n    width\n    height\n    gridWidth\n    gridHeight\n    url\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Start {\n    viewer { id name }\n    model { name executionProvider dtype fallbackReason freeChat multiTurn }\n    tasks { name description inputType resultType inputField supported }\n  }\n"): (typeof documents)["\n  query Start {\n    viewer { id name }\n    model { name executionProvider dtype fallbackReason freeChat multiTurn }\n    tasks { name description inputType resultType inputField supported }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sessions {\n    sessions(first: 50) { edges { node { id title updatedAt } } }\n  }\n"): (typeof documents)["\n  query Sessions {\n    sessions(first: 50) { edges { node { id title updatedAt } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Rename($id: ID!, $t: String!) {\n    renameSession(id: $id, title: $t) { id title updatedAt }\n  }\n"): (typeof documents)["\n  mutation Rename($id: ID!, $t: String!) {\n    renameSession(id: $id, title: $t) { id title updatedAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Delete($id: ID!) {\n    deleteSession(id: $id)\n  }\n"): (typeof documents)["\n  mutation Delete($id: ID!) {\n    deleteSession(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSession($title: String) {\n    createSession(input: { title: $title }) { id title updatedAt }\n  }\n"): (typeof documents)["\n  mutation CreateSession($title: String) {\n    createSession(input: { title: $title }) { id title updatedAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Upload($b: String!, $m: String, $f: String) {\n    uploadImage(input: { base64: $b, mimeType: $m, filename: $f }) { ...ImageFields }\n  }\n"): (typeof documents)["\n  mutation Upload($b: String!, $m: String, $f: String) {\n    uploadImage(input: { base64: $b, mimeType: $m, filename: $f }) { ...ImageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { userMessage { id } assistantMessage { id status } }\n  }\n"): (typeof documents)["\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { userMessage { id } assistantMessage { id status } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Cancel($m: ID!) {\n    cancelGeneration(messageId: $m) { id status }\n  }\n"): (typeof documents)["\n  mutation Cancel($m: ID!) {\n    cancelGeneration(messageId: $m) { id status }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Events($m: ID!, $after: Int) {\n    messageEvents(messageId: $m, afterSeq: $after) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { ...VisualRefFields } }\n      ... on VisualRefDecoded { seq ref { ...VisualRefFields } }\n      ... on MessageCompleted { seq message { status } }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq message { status } }\n    }\n  }\n"): (typeof documents)["\n  subscription Events($m: ID!, $after: Int) {\n    messageEvents(messageId: $m, afterSeq: $after) {\n      __typename\n      ... on TextDelta { seq text }\n      ... on VisualRefStarted { seq ref { ...VisualRefFields } }\n      ... on VisualRefDecoded { seq ref { ...VisualRefFields } }\n      ... on MessageCompleted { seq message { status } }\n      ... on MessageFailed { seq error { code message } }\n      ... on MessageCancelled { seq message { status } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Message($m: ID!) {\n    message(id: $m) {\n      id\n      status\n      text\n      lastSeq\n      error { code message }\n      usage { promptTokens completionTokens prefillMs decodeMs decoderMs }\n      result {\n        __typename\n        ... on TextResult { text }\n        ... on RecResult { expression partial issues ref { ...VisualRefFields } }\n        ... on ResResult { expression area partial issues ref { ...VisualRefFields } }\n        ... on OvdResult {\n          partial\n          issues\n          unknownLabels\n          detections { label score ref { ...VisualRefFields } }\n        }\n        ... on RicResult {\n          caption\n          partial\n          issues\n          phrases { text start end refs { ...VisualRefFields } }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Message($m: ID!) {\n    message(id: $m) {\n      id\n      status\n      text\n      lastSeq\n      error { code message }\n      usage { promptTokens completionTokens prefillMs decodeMs decoderMs }\n      result {\n        __typename\n        ... on TextResult { text }\n        ... on RecResult { expression partial issues ref { ...VisualRefFields } }\n        ... on ResResult { expression area partial issues ref { ...VisualRefFields } }\n        ... on OvdResult {\n          partial\n          issues\n          unknownLabels\n          detections { label score ref { ...VisualRefFields } }\n        }\n        ... on RicResult {\n          caption\n          partial\n          issues\n          phrases { text start end refs { ...VisualRefFields } }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SessionMessages($s: ID!) {\n    session(id: $s) {\n      id\n      title\n      messages(last: 20) {\n        edges {\n          node {\n            id\n            role\n            status\n            task\n            text\n            lastSeq\n            error { code message }\n            parts {\n              __typename\n              ... on TextPart { text }\n              ... on ImagePart { image { ...ImageFields } }\n              ... on VisualRefPart { ref { ...VisualRefFields } }\n            }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query SessionMessages($s: ID!) {\n    session(id: $s) {\n      id\n      title\n      messages(last: 20) {\n        edges {\n          node {\n            id\n            role\n            status\n            task\n            text\n            lastSeq\n            error { code message }\n            parts {\n              __typename\n              ... on TextPart { text }\n              ... on ImagePart { image { ...ImageFields } }\n              ... on VisualRefPart { ref { ...VisualRefFields } }\n            }\n          }\n        }\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;