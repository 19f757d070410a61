import { ErrorCode } from "@padt/protocol";
import { and, asc, eq, getTableColumns, inArray } from "drizzle-orm";
import type { Database } from "../database.js";
import { DbError, pgErrorOf } from "../errors.js";
import { isUuid, uuidv7 } from "../ids.js";
import {
  type Box,
  type MessagePart,
  messageParts,
  type NewMessagePart,
  type RleMask,
} from "../schema.js";

/** A part as the gateway writes it; the row's many nullable columns are filled from this. */
export type PartInput =
  | { kind: "text"; text: string }
  | { kind: "image"; imageId: string }
  | {
      kind: "visual_ref";
      imageId: string;
      /** Order among the message's references. */
      refIndex: number;
      patches: readonly number[];
      label?: string | null;
      box?: Box | null;
      mask?: RleMask | null;
      score?: number | null;
      /** True once the decoder has run (box, mask and score are then known). */
      decoded?: boolean;
    };

function toRow(
  ownerId: string,
  messageId: string,
  part: PartInput,
  ordinal: number,
): NewMessagePart {
  const base = { ownerId, messageId, ordinal, kind: part.kind };
  switch (part.kind) {
    case "text":
      return { ...base, text: part.text };
    case "image":
      return { ...base, imageId: part.imageId };
    case "visual_ref":
      return {
        ...base,
        imageId: part.imageId,
        refIndex: part.refIndex,
        patches: [...part.patches],
        label: part.label ?? null,
        boxX: part.box?.x ?? null,
        boxY: part.box?.y ?? null,
        boxWidth: part.box?.width ?? null,
        boxHeight: part.box?.height ?? null,
        maskCounts: part.mask?.counts ?? null,
        maskHeight: part.mask?.height ?? null,
        maskWidth: part.mask?.width ?? null,
        maskArea: part.mask?.area ?? null,
        score: part.score ?? null,
        decoded: part.decoded ?? false,
      };
    default: {
      const unknown: never = part;
      throw new Error(`Unknown part kind: ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Writes a message's parts in order (ordinals 0, 1, ...). An image that is not the
 * owner's fails the composite foreign key and is reported as not found; run inside the
 * message's transaction so that nothing of the message remains.
 */
export async function insertParts(
  db: Database,
  ownerId: string,
  messageId: string,
  parts: readonly PartInput[],
): Promise<MessagePart[]> {
  if (parts.length === 0) return [];
  assertImageIds(parts);
  try {
    return await db
      .insert(messageParts)
      .values(parts.map((part, i) => toRow(ownerId, messageId, part, i)))
      .returning();
  } catch (error) {
    throw imageNotFound(error) ?? error;
  }
}

function assertImageIds(parts: readonly PartInput[]): void {
  if (parts.some((p) => p.kind !== "text" && !isUuid(p.imageId))) {
    throw new DbError(ErrorCode.NOT_FOUND, "Image not found");
  }
}

/** NOT_FOUND for a write that failed on a part's image (not the owner's, or gone). */
export function imageNotFound(error: unknown): DbError | undefined {
  const pg = pgErrorOf(error);
  return pg?.code === "23503" && pg.constraint === "message_parts_image_fk"
    ? new DbError(ErrorCode.NOT_FOUND, "Image not found", { cause: error })
    : undefined;
}

const partColumns = getTableColumns(messageParts);

/**
 * A message's part rows as JSON objects keyed by column name, every column given (ids made
 * here, as the schema's default would): for a statement that inserts them with
 * `jsonb_populate_recordset` (finishMessage). Throws NOT_FOUND for a malformed image id.
 */
export function partRecords(
  ownerId: string,
  messageId: string,
  parts: readonly PartInput[],
): Record<string, unknown>[] {
  assertImageIds(parts);
  return parts.map((part, i) => {
    const row: Record<string, unknown> = {
      id: uuidv7(),
      decoded: false,
      ...toRow(ownerId, messageId, part, i),
    };
    return Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        partColumns[key as keyof typeof partColumns].name,
        value,
      ]),
    );
  });
}

/** The parts of several messages, each message's in order: one query for a page. */
export async function partsByMessageIds(
  db: Database,
  ownerId: string,
  messageIds: readonly string[],
): Promise<MessagePart[]> {
  const ids = messageIds.filter(isUuid);
  if (ids.length === 0) return [];
  return db
    .select()
    .from(messageParts)
    .where(and(eq(messageParts.ownerId, ownerId), inArray(messageParts.messageId, ids)))
    .orderBy(asc(messageParts.messageId), asc(messageParts.ordinal));
}

/** A part's box, when it has one. */
export function partBox(part: MessagePart): Box | null {
  const { boxX: x, boxY: y, boxWidth: width, boxHeight: height } = part;
  return x === null || y === null || width === null || height === null
    ? null
    : { x, y, width, height };
}

/** A part's mask, when it has one. */
export function partMask(part: MessagePart): RleMask | null {
  const { maskCounts: counts, maskHeight: height, maskWidth: width, maskArea: area } = part;
  return counts === null || height === null || width === null || area === null
    ? null
    : { counts, height, width, area };
}
