/**
 * The public schema (../shared/design/SCHEMA.graphql) as the gateway serves it. Changes from
 * the design, each for a reason clients will see:
 * - `SendMessageInput.idempotencyKey`: safe retries of sendMessage.
 * - `Image.url` is served at /images/{id} (same origin, authorized by the API key).
 * - `TaskInfo.inputField` (the TaskInput field that selects the task) for building menus.
 * - `ModelInfo.fallbackReason`, when the requested execution provider was not available.
 * - `Query.viewer` (the key's owner) so a client can check its key.
 * - `Message.historyTrim`: an answer says which oldest history did not fit the context.
 * Task plugins extend TaskInput and TaskResult with their own types.
 */
export const baseTypeDefs = /* GraphQL */ `
  scalar DateTime

  interface Node {
    id: ID!
  }

  type Query {
    node(id: ID!): Node
    sessions(first: Int = 20, after: String): ChatSessionConnection!
    session(id: ID!): ChatSession
    message(id: ID!): Message
    image(id: ID!): Image
    "Registered task plugins, for clients to build their menus."
    tasks: [TaskInfo!]!
    "The loaded model: name, architecture numbers, execution provider."
    model: ModelInfo!
    "The owner of the API key in use."
    viewer: Viewer!
  }

  type Mutation {
    createSession(input: CreateSessionInput!): ChatSession!
    renameSession(id: ID!, title: String!): ChatSession!
    deleteSession(id: ID!): Boolean!
    "Image bytes as base64 (size-limited); content-addressed, so re-uploads are free."
    uploadImage(input: UploadImageInput!): Image!
    "Stores the user's message and starts the assistant's answer; follow it with messageEvents."
    sendMessage(input: SendMessageInput!): SendMessagePayload!
    cancelGeneration(messageId: ID!): Message!
  }

  type Subscription {
    "Every event of one assistant message, in order. With afterSeq, first the events after it (replayed), then live ones."
    messageEvents(messageId: ID!, afterSeq: Int): MessageEvent!
    "Session-level changes: a message added, a status changed, the title changed."
    sessionEvents(sessionId: ID!): SessionEvent!
  }

  type Viewer {
    id: ID!
    name: String
  }

  input CreateSessionInput {
    title: String
  }
  input UploadImageInput {
    base64: String!
    mimeType: String
    filename: String
  }

  input SendMessageInput {
    sessionId: ID!
    "Ordered parts: text, images, and visual references, interleaved as the user wrote them."
    parts: [MessagePartInput!]!
    "Omit for free chat."
    task: TaskInput
    options: GenerationOptions
    "Retrying with the same key and the same input returns the same messages; with other input, IDEMPOTENCY_CONFLICT."
    idempotencyKey: String
  }
  "Exactly one field set."
  input MessagePartInput {
    text: String
    imageId: ID
    visualRef: VisualRefInput
  }
  "Point at patches of an image, at a box (converted to patches), or at an object of an earlier answer."
  input VisualRefInput {
    imageId: ID
    patches: [Int!]
    box: BoxInput
    refId: ID
  }
  input BoxInput {
    x: Float!
    y: Float!
    width: Float!
    height: Float!
  }
  "Decoding as transformers' generate; what is left out comes from the model's checkpoint (generation_config.json)."
  input GenerationOptions {
    maxNewTokens: Int
    "Sample instead of greedy (default: true when temperature > 0 is given)."
    doSample: Boolean
    temperature: Float
    "Sampling only; 0 turns it off."
    topK: Int
    topP: Float
    "Over every id already in the answer and the prompt, greedy or not; 1 turns it off."
    repetitionPenalty: Float
    seed: Int
  }
  "Exactly one field set; each plugin adds its own, e.g. rec: RecInput."
  input TaskInput {
    _placeholder: Boolean
  }

  type SendMessagePayload {
    userMessage: Message!
    assistantMessage: Message!
  }

  type ChatSession implements Node {
    id: ID!
    title: String
    createdAt: DateTime!
    updatedAt: DateTime!
    messages(first: Int, after: String, last: Int, before: String): MessageConnection!
  }

  enum Role {
    USER
    ASSISTANT
  }
  enum MessageStatus {
    PENDING
    STREAMING
    COMPLETE
    FAILED
    CANCELLED
    INTERRUPTED
  }

  type Message implements Node {
    id: ID!
    session: ChatSession!
    role: Role!
    status: MessageStatus!
    "The task this message asked for or answered; null for free chat."
    task: String
    parts: [MessagePart!]!
    "All text parts joined, visual references rendered as their labels."
    text: String!
    visualRefs: [VisualRef!]!
    "The task plugin's typed reading of the answer."
    result: TaskResult
    error: MessageError
    usage: Usage
    createdAt: DateTime!
    completedAt: DateTime
    "Sequence number of the last event; resume messageEvents after it."
    lastSeq: Int!
    "On an answer: the history the model did not see (the oldest messages, left out to fit its context; or every earlier message, when the model answers one question per image); null when all of it was used."
    historyTrim: HistoryTrim
  }

  "The session history an answer did not see: its oldest messages, with their images."
  type HistoryTrim {
    "Earlier messages (questions and answers) not sent to the model."
    droppedMessages: Int!
    "Images of those messages."
    droppedImages: Int!
    "Visual references in the messages that were sent which pointed at a dropped image (left out too)."
    droppedRefs: Int!
  }

  union MessagePart = TextPart | ImagePart | VisualRefPart
  type TextPart {
    text: String!
  }
  type ImagePart {
    image: Image!
  }
  type VisualRefPart {
    ref: VisualRef!
  }

  "An object the model pointed at: a run of visual reference tokens, decoded."
  type VisualRef implements Node {
    id: ID!
    "Order within its message."
    index: Int!
    label: String
    image: Image!
    "Patch indices in the model's 28-px grid of the image (row-major)."
    patches: [Int!]!
    "False until the decoder has run."
    decoded: Boolean!
    box: Box
    mask: Mask
    score: Float
  }
  "Pixels of the original image."
  type Box {
    x: Float!
    y: Float!
    width: Float!
    height: Float!
  }
  "COCO compressed RLE, column-major, of the original image size."
  type Mask {
    height: Int!
    width: Int!
    counts: String!
    area: Int!
  }

  type Image implements Node {
    id: ID!
    sha256: String!
    width: Int!
    height: Int!
    mimeType: String!
    "Where the bytes can be fetched (same origin, authorized)."
    url: String!
    "The model's patch grid for this image: columns and rows of 28-px cells."
    gridWidth: Int!
    gridHeight: Int!
  }

  "Each plugin adds its result type, e.g. RecResult."
  union TaskResult = TextResult
  type TextResult {
    text: String!
  }

  type MessageError {
    code: String!
    message: String!
  }
  type Usage {
    promptTokens: Int!
    completionTokens: Int!
    prefillMs: Float!
    decodeMs: Float!
    decoderMs: Float!
  }

  union MessageEvent =
    | TextDelta
    | VisualRefStarted
    | VisualRefDecoded
    | MessageCompleted
    | MessageFailed
    | MessageCancelled
  type TextDelta {
    seq: Int!
    messageId: ID!
    text: String!
  }
  "A run of visual reference tokens has begun; patches grow as tokens arrive."
  type VisualRefStarted {
    seq: Int!
    messageId: ID!
    ref: VisualRef!
  }
  type VisualRefDecoded {
    seq: Int!
    messageId: ID!
    ref: VisualRef!
  }
  type MessageCompleted {
    seq: Int!
    messageId: ID!
    message: Message!
  }
  type MessageFailed {
    seq: Int!
    messageId: ID!
    error: MessageError!
  }
  type MessageCancelled {
    seq: Int!
    messageId: ID!
    message: Message!
  }

  union SessionEvent = MessageAdded | MessageStatusChanged | SessionRenamed
  type MessageAdded {
    session: ChatSession!
    message: Message!
  }
  type MessageStatusChanged {
    message: Message!
  }
  type SessionRenamed {
    session: ChatSession!
  }

  type TaskInfo {
    name: String!
    description: String!
    "Whether the loaded model was trained for this task (its bundle's capabilities)."
    supported: Boolean!
    inputType: String
    resultType: String
    "The TaskInput field that selects this task."
    inputField: String
  }
  type ModelInfo {
    name: String!
    executionProvider: String!
    dtype: String!
    vocabSize: Int!
    maxPixels: Int!
    "The tasks the loaded model was trained for (a registered plugin may ask for more)."
    supportedTasks: [String!]!
    "Whether the model answers plain chat, a message without a task."
    freeChat: Boolean!
    "Whether the model was trained on conversations of several turns. When false, each answer sees only the last question (with the latest image) and its historyTrim says what it left out: ask one question per image."
    multiTurn: Boolean!
    "Why the requested execution provider is not the one in use, when it is not."
    fallbackReason: String
    "Who runs the model now: this process (--role all), or the live padt workers (--role gateway)."
    serving: ModelServing!
  }
  type ModelServing {
    "Processes running the model: 1 in --role all; on a gateway, the workers whose heartbeat is within the lease."
    workers: Int!
    "Answers they run at once (engine workers x answers per engine worker)."
    capacity: Int!
    "Answers they run now."
    inFlight: Int!
    "Their execution providers (cpu, cuda, webgpu), once each; empty when no worker is live."
    executionProviders: [String!]!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }
  type ChatSessionConnection {
    edges: [ChatSessionEdge!]!
    pageInfo: PageInfo!
  }
  type ChatSessionEdge {
    cursor: String!
    node: ChatSession!
  }
  type MessageConnection {
    edges: [MessageEdge!]!
    pageInfo: PageInfo!
  }
  type MessageEdge {
    cursor: String!
    node: Message!
  }
`;
