import { and, eq, getTableColumns, inArray, isNull, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { sha256Hex } from "../hash.js";
import { isUuid, uuidv7 } from "../ids.js";
import { rowOf } from "../raw_rows.js";
import { type Image, images } from "../schema.js";

/** An image without its bytes: what lists, loaders and GraphQL fields need. */
export type ImageMeta = Omit<Image, "data">;

const { data: _data, ...metaColumns } = getTableColumns(images);

export interface ImageInput {
  /** The encoded file as uploaded; hashed here, so the content address cannot lie. */
  bytes: Uint8Array;
  /** Measured by the caller's decoder (after EXIF orientation). */
  width: number;
  height: number;
  mimeType: string;
  /** Set when the caller keeps the bytes in an object store; the database then holds none. */
  storageKey?: string | null;
  /** The model's patch grid, as the engine answered for these bytes. */
  grid?: ImageGrid;
}

export interface ImageGrid {
  gridWidth: number;
  gridHeight: number;
}

/**
 * Stores an image once per owner and content: the same bytes uploaded again return the
 * first row (given a grid it lacked, if it was stored before grids were). Concurrent uploads
 * of the same bytes both end with that one row.
 */
export async function putImage(
  db: Database,
  ownerId: string,
  input: ImageInput,
): Promise<ImageMeta> {
  const sha256 = sha256Hex(input.bytes);
  const id = uuidv7();
  const bytes = input.storageKey
    ? null
    : Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  // One statement whether the bytes are new or stored already (an upload sent again): the
  // insert, or else the row it met. Both drivers hand raw rows back as `{ rows }`.
  const result = (await db.execute(sql`
    WITH inserted AS (
      INSERT INTO ${images} (id, owner_id, sha256, width, height, mime_type, byte_size, data,
        storage_key, grid_width, grid_height)
      VALUES (${id}, ${ownerId}, ${sha256}, ${input.width}, ${input.height}, ${input.mimeType},
        ${input.bytes.byteLength}, ${bytes}, ${input.storageKey ?? null},
        ${input.grid?.gridWidth ?? null}, ${input.grid?.gridHeight ?? null})
      ON CONFLICT (owner_id, sha256) DO NOTHING
      RETURNING ${META_NAMES}
    )
    SELECT * FROM inserted
    UNION ALL
    SELECT ${META_NAMES} FROM ${images}
    WHERE owner_id = ${ownerId} AND sha256 = ${sha256} AND NOT EXISTS (SELECT 1 FROM inserted)`)) as unknown as {
    rows: Record<string, unknown>[];
  };
  const found = result.rows[0] ? metaOf(result.rows[0]) : undefined;
  if (found?.id === id) return found;
  // Not in the statement's snapshot: ON CONFLICT DO NOTHING waited for a concurrent insert
  // of the same bytes to commit, so the row is visible to the next statement.
  const existing =
    found ??
    (
      await db
        .select(metaColumns)
        .from(images)
        .where(and(eq(images.ownerId, ownerId), eq(images.sha256, sha256)))
    )[0]!;
  if (existing.gridWidth === null && input.grid) return setImageGrid(db, existing, input.grid);
  return existing;
}

const META_NAMES = sql.raw(
  Object.values(metaColumns)
    .map((c) => `"${c.name}"`)
    .join(", "),
);

function metaOf(raw: Record<string, unknown>): ImageMeta {
  const { data: _bytes, ...meta } = rowOf(images, { ...raw, data: null });
  return meta;
}

/** Records the grid of a row stored before grids were; a row that has one keeps it. */
export async function setImageGrid(
  db: Database,
  image: Pick<ImageMeta, "id" | "ownerId">,
  grid: ImageGrid,
): Promise<ImageMeta> {
  const where = and(eq(images.id, image.id), eq(images.ownerId, image.ownerId));
  await db
    .update(images)
    .set({ gridWidth: grid.gridWidth, gridHeight: grid.gridHeight })
    .where(and(where, isNull(images.gridWidth)));
  const [row] = await db.select(metaColumns).from(images).where(where);
  return row!;
}

export async function getImage(
  db: Database,
  ownerId: string,
  id: string,
): Promise<ImageMeta | undefined> {
  if (!isUuid(id)) return undefined;
  const [image] = await db
    .select(metaColumns)
    .from(images)
    .where(and(eq(images.id, id), eq(images.ownerId, ownerId)));
  return image;
}

/** The whole row, bytes included, for the endpoint that serves them. */
export async function getImageWithData(
  db: Database,
  ownerId: string,
  id: string,
): Promise<Image | undefined> {
  if (!isUuid(id)) return undefined;
  const [image] = await db
    .select()
    .from(images)
    .where(and(eq(images.id, id), eq(images.ownerId, ownerId)));
  return image;
}

export async function imagesByIds(
  db: Database,
  ownerId: string,
  ids: readonly string[],
): Promise<ImageMeta[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return db
    .select(metaColumns)
    .from(images)
    .where(and(eq(images.ownerId, ownerId), inArray(images.id, valid)));
}
