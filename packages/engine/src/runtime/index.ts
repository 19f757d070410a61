export { Channel } from "./channel.js";
export { type PoolStats, WorkerPool, type WorkerPoolOptions } from "./pool.js";
export {
  type JobContext,
  type JobHandler,
  serveJobs,
  type WorkerSetup,
  workerInput,
} from "./serve.js";
