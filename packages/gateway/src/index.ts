// The gateway's contract, for the CLI, benchmarks and end-to-end tests: start a server or a
// worker, read the configuration, open and migrate the database, create owners and keys, and
// print the published schema. Repositories, the runner, the buses and resolvers are internals:
// the gateway's own tests import them from src/ directly.
export { authenticate, LOCAL_KEY_FILE } from "./auth.js";
export {
  DEFAULT_LIMITS,
  defaultConfig,
  type GatewayConfig,
  type Limits,
  loadConfig,
  SERVE_ROLES,
  type ServeRole,
  SHIPPED_TASKS,
} from "./config.js";
export { type ConnectOptions, connect } from "./db/connect.js";
export type { Database, DatabaseHandle, DriverKind } from "./db/database.js";
export { DbError, isDbError } from "./db/errors.js";
export { defaultMigrationsFolder, type MigrateOptions, migrate } from "./db/migrate.js";
export {
  type ApiKeyInfo,
  createApiKey,
  listApiKeys,
  type NewKeyOptions,
  revokeApiKey,
  rotateApiKey,
} from "./db/repos/api_keys.js";
export { createOwner } from "./db/repos/owners.js";
export {
  printPublishedSchema,
  publishedSchemaSdl,
  servedSchema,
} from "./graphql/published_schema.js";
export { startWorker, type Worker, type WorkerOptions } from "./queue/worker.js";
export {
  createGateway,
  type Gateway,
  type GatewayConfigInput,
  type GatewayOptions,
  startGateway,
} from "./server/gateway.js";
export { createLogger, type Logger } from "./server/logger.js";
export { defaultPlaygroundDir, playgroundRoutes } from "./server/playground_route.js";
export { watchTerminationSignals } from "./server/signals.js";
export { RoleError } from "./server/topology.js";
// A process that runs generations without createGateway (a worker) exports its spans with this.
export { startTracing, type Tracing } from "./server/tracing.js";
export { loadTasks } from "./tasks.js";
