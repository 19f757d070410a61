// Persistence (issue 6). The GraphQL server, run queue and CLI build on these (issue 7).

// The server (issue 7).
export { authenticate, ensureLocalKey, keyFromAuthorization, LOCAL_KEY_FILE } from "./auth.js";
export { type Bus, createBus, type SessionEventPayload } from "./bus.js";
export {
  DEFAULT_LIMITS,
  defaultConfig,
  type GatewayConfig,
  type Limits,
  loadConfig,
  SHIPPED_TASKS,
} from "./config.js";
export { parseVisualRefId, visualRefId } from "./conversation/refs.js";
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
export { finishMessage, markStreaming, type Outcome } from "./db/repos/transitions.js";
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
export { GatewayErrorCode } from "./errors.js";
export {
  type GenerationJob,
  GenerationRunner,
  type Reservation,
  type RunnerOptions,
  type StopReason,
} from "./generation/runner.js";
export type { Context, Services } from "./graphql/context.js";
export { messageEventStream, sessionEventStream } from "./graphql/resolvers/subscription.js";
export { ImageService } from "./images.js";
export { PubSub } from "./pubsub.js";
export {
  createGateway,
  type Gateway,
  type GatewayConfigInput,
  type GatewayOptions,
  startGateway,
} from "./server/gateway.js";
export type { RouteHandler } from "./server/http.js";
export { createLogger, type Logger } from "./server/logger.js";
export { createMetrics, type Metrics } from "./server/metrics.js";
export { defaultPlaygroundDir, playgroundRoutes } from "./server/playground_route.js";
export { watchTerminationSignals } from "./server/signals.js";
export { loadTasks } from "./tasks.js";
