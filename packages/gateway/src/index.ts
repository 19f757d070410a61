// Persistence (issue 6). The GraphQL server, run queue and CLI build on these (issue 7).
export { type ConnectOptions, connect } from "./db/connect.js";
export type {
  Database,
  DatabaseHandle,
  DriverKind,
  LockedConnection,
  Schema,
} from "./db/database.js";
export { DbError, DbErrorCode, isDbError } from "./db/errors.js";
export { uuidv7 } from "./db/ids.js";
export { defaultMigrationsFolder, type MigrateOptions, migrate } from "./db/migrate.js";
export {
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  type Edge,
  encodeCursor,
  MAX_PAGE_SIZE,
  type Page,
  type PageArgs,
} from "./db/pagination.js";
export { INTERRUPTED_ERROR_CODE, recoverInterrupted } from "./db/recover.js";
export { appendEvent, type EventInput, listEvents } from "./db/repos/events.js";
export { type Exchange, type ExchangeInput, insertExchange } from "./db/repos/exchange.js";
export {
  getImage,
  getImageWithData,
  type ImageInput,
  type ImageMeta,
  imagesByIds,
  putImage,
} from "./db/repos/images.js";
export { createLoaders, type LoaderOptions, type Loaders } from "./db/repos/loaders.js";
export {
  findAnswer,
  getMessage,
  isFinished,
  listMessages,
  messagesByIds,
  UNFINISHED_STATUSES,
} from "./db/repos/messages.js";
export {
  createApiKey,
  createOwner,
  findOwnerByApiKey,
  hashApiKey,
  listApiKeys,
  revokeApiKey,
} from "./db/repos/owners.js";
export {
  insertParts,
  type PartInput,
  partBox,
  partMask,
  partsByMessageIds,
} from "./db/repos/parts.js";
export {
  createSession,
  deleteSession,
  getSession,
  listSessions,
  renameSession,
  sessionsByIds,
} from "./db/repos/sessions.js";
export { finishMessage, markStreaming, type Outcome, renewLease } from "./db/repos/transitions.js";
export type {
  ApiKey,
  Image,
  Message,
  MessageEvent,
  MessageEventType,
  MessagePart,
  MessageRole,
  MessageStatus,
  Owner,
  Session,
  StoredGenerationOptions,
} from "./db/schema.js";
export * as schema from "./db/schema.js";
