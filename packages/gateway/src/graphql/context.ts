import type { EngineClient } from "@padt/engine";
import type { TaskRegistry } from "@padt/task-api";
import type { Bus } from "../bus.js";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { createLoaders, type Loaders } from "../db/repos/loaders.js";
import type { Owner } from "../db/schema.js";
import type { Generations } from "../generation/generations.js";
import type { ImageService } from "../images.js";

/** What resolvers use, shared by every request of one gateway. */
export interface Services {
  db: Database;
  engine: EngineClient;
  tasks: TaskRegistry;
  bus: Bus;
  runner: Generations;
  images: ImageService;
  limits: Limits;
}

/** Per request (HTTP) or per subscription (WebSocket). */
export interface Context {
  owner: Owner;
  services: Services;
  /** Batch loaders scoped to the owner: cached for one HTTP request, uncached on a socket. */
  loaders: Loaders;
}

export function createContext(
  services: Services,
  owner: Owner,
  options: { cache: boolean },
): Context {
  return {
    owner,
    services,
    loaders: createLoaders(services.db, owner.id, { cache: options.cache }),
  };
}
