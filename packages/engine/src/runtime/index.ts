export { Channel } from "./channel.js";
export { type PoolStats, WorkerPool, type WorkerPoolOptions } from "./pool.js";
export { type JobContext, type JobHandler, serveJobs, workerInput } from "./serve.js";
