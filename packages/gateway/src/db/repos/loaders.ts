import DataLoader from "dataloader";
import type { Database } from "../database.js";
import type { Message, MessagePart, Session } from "../schema.js";
import { type ImageMeta, imagesByIds } from "./images.js";
import { messagesByIds } from "./messages.js";
import { partsByMessageIds } from "./parts.js";
import { sessionsByIds } from "./sessions.js";

/**
 * Batch loaders for one owner. Resolving a page of N messages with their parts, visual
 * references and images costs one query per loader, whatever N is.
 */
export interface Loaders {
  sessionById: DataLoader<string, Session | null>;
  messageById: DataLoader<string, Message | null>;
  /** Every part of a message, in order. */
  partsByMessageId: DataLoader<string, MessagePart[]>;
  /** The visual-reference parts of a message, in order; answered from partsByMessageId. */
  refsByMessageId: DataLoader<string, MessagePart[]>;
  imageById: DataLoader<string, ImageMeta | null>;
}

export interface LoaderOptions {
  /**
   * Keep results for the loaders' lifetime (default true: one GraphQL request). Pass
   * false for a subscription, whose context lives as long as the stream and would
   * otherwise serve stale statuses and parts.
   */
  cache?: boolean;
}

function byId<T extends { id: string }>(rows: T[], ids: readonly string[]): (T | null)[] {
  const found = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => found.get(id) ?? null);
}

export function createLoaders(db: Database, ownerId: string, options: LoaderOptions = {}): Loaders {
  const cache = options.cache ?? true;
  const partsByMessageId = new DataLoader<string, MessagePart[]>(
    async (ids) => {
      const groups = new Map<string, MessagePart[]>(ids.map((id) => [id, []]));
      for (const part of await partsByMessageIds(db, ownerId, ids))
        groups.get(part.messageId)?.push(part);
      return ids.map((id) => groups.get(id) ?? []);
    },
    { cache },
  );
  return {
    sessionById: new DataLoader(async (ids) => byId(await sessionsByIds(db, ownerId, ids), ids), {
      cache,
    }),
    messageById: new DataLoader(async (ids) => byId(await messagesByIds(db, ownerId, ids), ids), {
      cache,
    }),
    partsByMessageId,
    refsByMessageId: new DataLoader(
      async (ids) => {
        const lists = await partsByMessageId.loadMany(ids);
        return lists.map((parts) =>
          parts instanceof Error ? parts : parts.filter((p) => p.kind === "visual_ref"),
        );
      },
      { cache },
    ),
    imageById: new DataLoader(async (ids) => byId(await imagesByIds(db, ownerId, ids), ids), {
      cache,
    }),
  };
}
