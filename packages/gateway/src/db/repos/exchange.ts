import { ErrorCode } from "@padt/protocol";
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { DbError } from "../errors.js";
import { canonicalJson, sha256Hex } from "../hash.js";
import { isUuid, uuidv7 } from "../ids.js";
import {
  type Message,
  type MessagePart,
  messages,
  type StoredGenerationOptions,
  sessions,
} from "../schema.js";
import { findAnswer } from "./messages.js";
import { insertParts, type PartInput, partsByMessageIds } from "./parts.js";

export interface ExchangeInput {
  sessionId: string;
  parts: readonly PartInput[];
  /** Task plugin name; null or absent for free chat. */
  task?: string | null;
  /** The plugin's input, already validated by it. */
  taskInput?: unknown;
  options?: StoredGenerationOptions | null;
  /** Client-chosen; a retry with the same key and request gets the first exchange back. */
  idempotencyKey?: string | null;
}

/** A user message, its parts, and the pending assistant message that will answer it. */
export interface Exchange {
  userMessage: Message;
  userParts: MessagePart[];
  assistantMessage: Message;
  /** True when an earlier send with the same idempotency key is returned. */
  replayed: boolean;
}

function inputHash(input: ExchangeInput): string {
  return sha256Hex(
    canonicalJson({
      sessionId: input.sessionId,
      parts: input.parts,
      task: input.task ?? null,
      taskInput: input.taskInput ?? null,
      options: input.options ?? null,
    }),
  );
}

async function replay(
  db: Database,
  ownerId: string,
  user: Message,
  hash: string,
): Promise<Exchange> {
  if (user.inputHash !== hash) {
    throw new DbError(
      ErrorCode.IDEMPOTENCY_CONFLICT,
      "This idempotency key was used for a different request",
    );
  }
  const answer = await findAnswer(db, ownerId, user.id);
  const userParts = await partsByMessageIds(db, ownerId, [user.id]);
  return { userMessage: user, userParts, assistantMessage: answer!, replayed: true };
}

/**
 * Stores what the user sent and the assistant message that will answer it, in one
 * transaction: either the user message, all its parts and the pending answer exist, or
 * none of them does (a bad image id, say, leaves nothing behind).
 *
 * With an idempotency key, requests with the same key queue on an advisory lock for the
 * length of the transaction; the second then finds the first's rows and returns them (same
 * request) or fails with IDEMPOTENCY_CONFLICT (different request). The unique index on
 * (owner_id, idempotency_key) backs this up should anything bypass the lock.
 */
export async function insertExchange(
  db: Database,
  ownerId: string,
  input: ExchangeInput,
): Promise<Exchange> {
  if (!isUuid(input.sessionId)) throw new DbError(ErrorCode.NOT_FOUND, "Session not found");
  return db.transaction((tx) => storeExchange(tx, ownerId, input));
}

/**
 * `insertExchange` inside a transaction the caller holds (and rolls back on any error): no
 * savepoint of its own, two round trips fewer than a nested `insertExchange`.
 */
export async function storeExchange(
  tx: Database,
  ownerId: string,
  input: ExchangeInput,
): Promise<Exchange> {
  if (!isUuid(input.sessionId)) throw new DbError(ErrorCode.NOT_FOUND, "Session not found");
  const key = input.idempotencyKey ?? null;
  const hash = inputHash(input);
  if (key !== null) {
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${ownerId}:${key}`}, 0))`,
    );
    const [existing] = await tx
      .select()
      .from(messages)
      .where(and(eq(messages.ownerId, ownerId), eq(messages.idempotencyKey, key)));
    if (existing) return replay(tx, ownerId, existing, hash);
  }
  // Checks the session is the owner's, and moves it up in "recently active" orderings.
  const [session] = await tx
    .update(sessions)
    .set({ updatedAt: sql`now()` })
    .where(and(eq(sessions.id, input.sessionId), eq(sessions.ownerId, ownerId)))
    .returning({ id: sessions.id });
  if (!session) throw new DbError(ErrorCode.NOT_FOUND, "Session not found");

  const task = input.task ?? null;
  const userId = uuidv7();
  // Both messages in one statement: the answer's reply_to_id names a row of the same
  // statement (foreign keys are checked at its end), and the user's id, made first, sorts
  // before the answer's.
  const inserted = await tx
    .insert(messages)
    .values([
      {
        id: userId,
        ownerId,
        sessionId: input.sessionId,
        role: "user",
        status: "complete",
        task,
        taskInput: input.taskInput ?? null,
        idempotencyKey: key,
        inputHash: key === null ? null : hash,
        completedAt: sql`now()`,
      },
      {
        ownerId,
        sessionId: input.sessionId,
        role: "assistant",
        status: "pending",
        replyToId: userId,
        task,
        options: input.options ?? null,
      },
    ])
    .returning();
  const userMessage = inserted.find((m) => m.id === userId);
  const assistantMessage = inserted.find((m) => m.id !== userId);
  const userParts = await insertParts(tx, ownerId, userId, input.parts);
  return {
    userMessage: userMessage!,
    userParts,
    assistantMessage: assistantMessage!,
    replayed: false,
  };
}
