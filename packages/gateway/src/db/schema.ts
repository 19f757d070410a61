/**
 * The database schema, as code (drizzle pg-core). drizzle-kit generates migrations/ from
 * this file; row types elsewhere come from `$inferSelect` / `$inferInsert` only.
 *
 * Conventions:
 * - Ids are UUIDv7 made by the gateway (ids.ts): time-ordered, so a user message and its
 *   answer, inserted in one transaction with the same `created_at`, still sort in order.
 * - Timestamps have millisecond precision: a JavaScript Date holds them exactly, so a
 *   cursor made from a row compares equal to that row again.
 * - Every owned row carries `owner_id`, and composite foreign keys (child id + owner id)
 *   make a cross-owner reference impossible in the database, not only in the repositories.
 * - Deleting a session deletes its messages, parts and events (cascade), so a deleted
 *   chat is really gone; images belong to the owner, not to a session, and stay.
 */
import type { Box, GenerateOptions, RleMask, Usage } from "@padt/engine";
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  customType,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { MessageEventType } from "../conversation/events.js";
import { uuidv7 } from "./ids.js";

/** node-postgres returns a Buffer, PGlite a Uint8Array: both are Uint8Array to callers. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  fromDriver: (value) => value,
});

const id = () => uuid("id").primaryKey().$defaultFn(uuidv7);
const ownerId = () => uuid("owner_id").notNull();
const createdAt = () =>
  timestamp("created_at", { withTimezone: true, precision: 3 }).defaultNow().notNull();

export const messageRole = pgEnum("message_role", ["user", "assistant"]);
export const messageStatus = pgEnum("message_status", [
  "pending",
  "streaming",
  "complete",
  "failed",
  "cancelled",
  "interrupted",
]);
export const partKind = pgEnum("part_kind", ["text", "image", "visual_ref"]);

export const owners = pgTable("owners", {
  id: id(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

/** Several keys per owner, so a key can be rotated without moving the owner's data. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: id(),
    ownerId: ownerId().references(() => owners.id, { onDelete: "cascade" }),
    /** sha256 (hex) of the whole key; the plaintext is shown once, at creation. */
    keyHash: text("key_hash").notNull().unique(),
    /** The first characters of the key, for people to tell their keys apart. */
    prefix: text("prefix").notNull(),
    /** A label people give a key ("ci", "laptop"); optional. */
    name: text("name"),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, precision: 3 }),
    /** After this instant the key is refused (null: never expires). */
    expiresAt: timestamp("expires_at", { withTimezone: true, precision: 3 }),
    /**
     * When the key was last accepted, to the minute: the gateway writes it only when the
     * stored time is older than that (auth.ts), so not once per request.
     */
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, precision: 3 }),
  },
  (t) => [index("api_keys_owner_idx").on(t.ownerId)],
);

export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    ownerId: ownerId().references(() => owners.id, { onDelete: "cascade" }),
    title: text("title"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 3 }).defaultNow().notNull(),
  },
  (t) => [
    unique("sessions_id_owner_key").on(t.id, t.ownerId),
    index("sessions_owner_page_idx").on(t.ownerId, t.createdAt, t.id),
  ],
);

export const images = pgTable(
  "images",
  {
    id: id(),
    ownerId: ownerId().references(() => owners.id, { onDelete: "cascade" }),
    /** sha256 (hex) of the bytes: uploads are content-addressed per owner. */
    sha256: text("sha256").notNull(),
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    mimeType: text("mime_type").notNull(),
    byteSize: integer("byte_size").notNull(),
    /** The bytes, for the embedded default; or null with `storage_key` naming an object store entry. */
    data: bytea("data"),
    storageKey: text("storage_key"),
    /**
     * The model's patch grid (columns, rows of merged patches), as the engine answered at
     * upload: patch checks, box-to-patch mapping and the GraphQL grid fields read it. Null only
     * on rows stored before it was recorded; the gateway fills those in on first use.
     */
    gridWidth: integer("grid_width"),
    gridHeight: integer("grid_height"),
    createdAt: createdAt(),
  },
  (t) => [
    unique("images_owner_sha256_key").on(t.ownerId, t.sha256),
    unique("images_id_owner_key").on(t.id, t.ownerId),
    check("images_one_location", sql`(${t.data} IS NULL) <> (${t.storageKey} IS NULL)`),
    check("images_grid_whole", sql`(${t.gridWidth} IS NULL) = (${t.gridHeight} IS NULL)`),
  ],
);

/** Generation options as stored: the engine's options without the AbortSignal. */
export type StoredGenerationOptions = Omit<GenerateOptions, "signal">;

/** What an answer records about how it was generated, beyond its parts. */
export interface MessageMetadata {
  /** The oldest history that was left out to fit the model's context (absent: none was). */
  historyTrim?: { droppedMessages: number; droppedImages: number; droppedRefs: number };
  /** The OpenTelemetry trace of the request and the generation (absent when traces are off). */
  traceId?: string;
}

export const messages = pgTable(
  "messages",
  {
    id: id(),
    ownerId: ownerId(),
    sessionId: uuid("session_id").notNull(),
    role: messageRole("role").notNull(),
    status: messageStatus("status").notNull(),
    /** For an assistant message: the user message it answers. */
    replyToId: uuid("reply_to_id"),
    /** Task plugin name; null for free chat. */
    task: text("task"),
    taskInput: jsonb("task_input"),
    options: jsonb("options").$type<StoredGenerationOptions>(),
    /** The task plugin's typed reading of the answer. */
    result: jsonb("result"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    usage: jsonb("usage").$type<Usage>(),
    metadata: jsonb("metadata").$type<MessageMetadata>(),
    /** Client-chosen key (user messages only): a retried send returns the first answer. */
    idempotencyKey: text("idempotency_key"),
    /** sha256 of the canonical request, to tell a retry from a different request reusing a key. */
    inputHash: text("input_hash"),
    /**
     * Until when the process running this generation vouches for it. Recovery leaves a
     * message whose lease is in the future alone (another replica is running it); null
     * means "whoever started it", which in the one-process default is always recoverable.
     */
    leaseUntil: timestamp("lease_until", { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
    completedAt: timestamp("completed_at", { withTimezone: true, precision: 3 }),
    /** Sequence number of the last event in message_events (0: none yet). */
    lastSeq: integer("last_seq").default(0).notNull(),
  },
  (t) => [
    foreignKey({
      name: "messages_session_fk",
      columns: [t.sessionId, t.ownerId],
      foreignColumns: [sessions.id, sessions.ownerId],
    }).onDelete("cascade"),
    foreignKey({
      name: "messages_reply_to_fk",
      columns: [t.replyToId],
      foreignColumns: [t.id],
    }).onDelete("cascade"),
    unique("messages_id_owner_key").on(t.id, t.ownerId),
    uniqueIndex("messages_owner_idempotency_idx").on(t.ownerId, t.idempotencyKey),
    index("messages_session_page_idx").on(t.sessionId, t.createdAt, t.id),
    index("messages_reply_to_idx").on(t.replyToId),
    // Recovery at start-up scans only the few unfinished messages.
    index("messages_unfinished_idx")
      .on(t.status)
      .where(sql`${t.status} IN ('pending', 'streaming')`),
    check(
      "messages_idempotency_pair",
      sql`(${t.idempotencyKey} IS NULL) = (${t.inputHash} IS NULL)`,
    ),
    check("messages_last_seq_nonnegative", sql`${t.lastSeq} >= 0`),
  ],
);

/**
 * The parts of a message, in order. A visual reference is an object the model pointed at
 * (or the user pointed at): label and patches first, box/mask/score once decoded.
 */
export const messageParts = pgTable(
  "message_parts",
  {
    /** Parts have their own id: a visual reference is a GraphQL Node that later messages cite. */
    id: id(),
    messageId: uuid("message_id").notNull(),
    ownerId: ownerId(),
    ordinal: integer("ordinal").notNull(),
    kind: partKind("kind").notNull(),
    text: text("text"),
    imageId: uuid("image_id"),
    /** Order of the reference within its message (VisualRef.index). */
    refIndex: integer("ref_index"),
    label: text("label"),
    /** Patch indices in the image's 28-px grid, row-major. */
    patches: integer("patches").array(),
    boxX: doublePrecision("box_x"),
    boxY: doublePrecision("box_y"),
    boxWidth: doublePrecision("box_width"),
    boxHeight: doublePrecision("box_height"),
    /** COCO compressed RLE (column-major) of the original image size. */
    maskCounts: text("mask_counts"),
    maskHeight: integer("mask_height"),
    maskWidth: integer("mask_width"),
    maskArea: integer("mask_area"),
    score: doublePrecision("score"),
    decoded: boolean("decoded").default(false).notNull(),
  },
  (t) => [
    foreignKey({
      name: "message_parts_message_fk",
      columns: [t.messageId, t.ownerId],
      foreignColumns: [messages.id, messages.ownerId],
    }).onDelete("cascade"),
    // RESTRICT: an image cited by a message cannot vanish under it.
    foreignKey({
      name: "message_parts_image_fk",
      columns: [t.imageId, t.ownerId],
      foreignColumns: [images.id, images.ownerId],
    }).onDelete("restrict"),
    unique("message_parts_message_ordinal_key").on(t.messageId, t.ordinal),
    uniqueIndex("message_parts_message_ref_idx")
      .on(t.messageId, t.refIndex)
      .where(sql`${t.kind} = 'visual_ref'`),
    index("message_parts_image_idx").on(t.imageId),
    check(
      "message_parts_kind_fields",
      sql`CASE ${t.kind}
        WHEN 'text' THEN ${t.text} IS NOT NULL AND ${t.imageId} IS NULL
        WHEN 'image' THEN ${t.imageId} IS NOT NULL AND ${t.text} IS NULL
        ELSE ${t.imageId} IS NOT NULL AND ${t.patches} IS NOT NULL AND ${t.refIndex} IS NOT NULL
      END`,
    ),
    check(
      "message_parts_box_whole",
      sql`num_nulls(${t.boxX}, ${t.boxY}, ${t.boxWidth}, ${t.boxHeight}) IN (0, 4)`,
    ),
    check(
      "message_parts_mask_whole",
      sql`num_nulls(${t.maskCounts}, ${t.maskHeight}, ${t.maskWidth}, ${t.maskArea}) IN (0, 4)`,
    ),
  ],
);

/**
 * Every stream event of an assistant message, numbered 1, 2, 3... without gaps, so a
 * client that reconnects resumes after the last seq it saw (messageEvents afterSeq).
 */
export const messageEvents = pgTable(
  "message_events",
  {
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    type: text("type").$type<MessageEventType>().notNull(),
    payload: jsonb("payload").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ name: "message_events_pkey", columns: [t.messageId, t.seq] })],
);

/**
 * The `padt worker` processes on this database, as each advertises itself (queue/registry.ts):
 * its model, capacity (engine workers x answers per worker), the answers it runs now (message
 * id -> when it claimed it, on the database's clock, ms since the epoch), its measured mean
 * service time and a heartbeat. A gateway replica admits a model's sends only while a worker
 * for it is live, and feeds its retry hints from these rows.
 */
export const workers = pgTable(
  "workers",
  {
    id: uuid("id").primaryKey(),
    model: text("model").notNull(),
    capacity: integer("capacity").notNull(),
    executionProvider: text("execution_provider").notNull(),
    running: jsonb("running").$type<Record<string, number>>().default({}).notNull(),
    /** Mean ms from claim to finish of its answers (exponentially weighted); null: none yet. */
    serviceMs: doublePrecision("service_ms"),
    completed: integer("completed").default(0).notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, precision: 3 }).defaultNow().notNull(),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, precision: 3 })
      .defaultNow()
      .notNull(),
  },
  (t) => [index("workers_model_heartbeat_idx").on(t.model, t.heartbeatAt)],
);

/** Event types (listed in conversation/events.ts); text, not a pg enum, so a new one needs no migration. */
export type { MessageEventType };

export type Owner = typeof owners.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type Image = typeof images.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type MessageStatus = Message["status"];
export type MessageRole = Message["role"];
export type MessagePart = typeof messageParts.$inferSelect;
export type NewMessagePart = typeof messageParts.$inferInsert;
export type MessageEvent = typeof messageEvents.$inferSelect;
export type WorkerRow = typeof workers.$inferSelect;

/** Engine shapes that parts are built from (re-exported for the repositories). */
export type { Box, RleMask };
