// Only used when the engine runs from its TypeScript sources (tests): registers tsx in the
// worker, then loads the real entry. Built code starts its .js entry directly.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
