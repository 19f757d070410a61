// The page's data types are the generated results of its operations (queries.ts, ../gql), so
// they cannot drift from the schema; only Attachment is the page's own.
import type {
  ImageFieldsFragment,
  MessageQuery,
  StartQuery,
  VisualRefFieldsFragment,
} from "../gql/graphql.js";

/** A registered task; `supported`: whether the loaded model was trained for it. */
export type TaskInfo = StartQuery["tasks"][number];

export type VisualRef = VisualRefFieldsFragment;

export type Box = NonNullable<VisualRef["box"]>;

export type ImageInfo = ImageFieldsFragment;

/** A reference the user drew on the image, attached to the next message. */
export type Attachment = { kind: "patches"; patches: number[] } | { kind: "box"; box: Box };

type StoredAnswer = NonNullable<MessageQuery["message"]>;

/** Token counts and timings of one answer, as the API reports them. */
export type Usage = NonNullable<StoredAnswer["usage"]>;

export type MessageError = NonNullable<StoredAnswer["error"]>;

/**
 * An answer's typed result. A server with plugins beyond the shipped ones sends result types
 * the published schema does not have: of those the page reads only __typename.
 */
export type TaskResult = NonNullable<StoredAnswer["result"]> | { __typename: string };
