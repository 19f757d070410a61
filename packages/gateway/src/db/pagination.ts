import { ErrorCode } from "@padt/protocol";
import { asc, desc, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { DbError } from "./errors.js";
import { isUuid } from "./ids.js";

/** Relay connection arguments: `first`/`after` pages forward, `last`/`before` backward. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Page<T> {
  edges: Edge<T>[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

interface Key {
  createdAt: Date;
  id: string;
}

/** Opaque to clients: base64url of `[created_at ISO, id]`. */
export function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify([key.createdAt.toISOString(), key.id])).toString("base64url");
}

export function decodeCursor(cursor: string): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2) {
    const [iso, id] = parsed as unknown[];
    const createdAt = typeof iso === "string" ? new Date(iso) : new Date(Number.NaN);
    if (!Number.isNaN(createdAt.getTime()) && typeof id === "string" && isUuid(id)) {
      return { createdAt, id };
    }
  }
  throw new DbError(ErrorCode.INVALID_CURSOR, "Invalid cursor");
}

function pageSize(n: number | null | undefined): number | undefined {
  if (n == null) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
    throw new DbError(ErrorCode.INVALID_PAGE_ARGS, `Page size must be 0 to ${MAX_PAGE_SIZE}`);
  }
  return n;
}

export interface KeysetSpec<T extends Key> {
  /** The connection's own order: sessions newest first, messages oldest first. */
  order: "asc" | "desc";
  createdAt: PgColumn;
  id: PgColumn;
  /** Runs the query: the caller adds its own filters (owner, session) to `where`. */
  fetch(where: SQL[], orderBy: SQL[], limit: number): Promise<T[]>;
}

/**
 * Keyset pagination on (created_at, id): a page starts strictly after its cursor's row,
 * so rows inserted meanwhile never shift or repeat what a client has already seen (new
 * rows appear at the ends). Costs one query of `n + 1` rows (the extra row tells whether
 * there is more in the paging direction).
 */
export async function paginate<T extends Key>(
  args: PageArgs,
  spec: KeysetSpec<T>,
): Promise<Page<T>> {
  const first = pageSize(args.first);
  const last = pageSize(args.last);
  if (first !== undefined && last !== undefined) {
    throw new DbError(ErrorCode.INVALID_PAGE_ARGS, "Pass first or last, not both");
  }
  const backward = last !== undefined;
  const n = last ?? first ?? DEFAULT_PAGE_SIZE;
  const key = sql`(${spec.createdAt}, ${spec.id})`;
  const bound = (cursor: string) => {
    const k = decodeCursor(cursor);
    return sql`(${k.createdAt.toISOString()}::timestamptz, ${k.id}::uuid)`;
  };
  // "Later in the connection's order" is > for asc and < for desc.
  const later = spec.order === "asc" ? sql`>` : sql`<`;
  const earlier = spec.order === "asc" ? sql`<` : sql`>`;
  const where: SQL[] = [];
  if (args.after) where.push(sql`${key} ${later} ${bound(args.after)}`);
  if (args.before) where.push(sql`${key} ${earlier} ${bound(args.before)}`);
  const scanAsc = (spec.order === "asc") !== backward;
  const dir = scanAsc ? asc : desc;
  const rows = await spec.fetch(where, [dir(spec.createdAt), dir(spec.id)], n + 1);
  const more = rows.length > n;
  const nodes = rows.slice(0, n);
  if (backward) nodes.reverse();
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? Boolean(args.before) : more,
      hasPreviousPage: backward ? more : Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
