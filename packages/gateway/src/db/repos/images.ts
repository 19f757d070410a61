import { and, eq, getTableColumns, inArray, isNull } from "drizzle-orm";
import type { Database } from "../database.js";
import { sha256Hex } from "../hash.js";
import { isUuid } from "../ids.js";
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
  const [inserted] = await db
    .insert(images)
    .values({
      ownerId,
      sha256,
      width: input.width,
      height: input.height,
      mimeType: input.mimeType,
      byteSize: input.bytes.byteLength,
      data: input.storageKey ? null : input.bytes,
      storageKey: input.storageKey ?? null,
      gridWidth: input.grid?.gridWidth ?? null,
      gridHeight: input.grid?.gridHeight ?? null,
    })
    .onConflictDoNothing({ target: [images.ownerId, images.sha256] })
    .returning(metaColumns);
  if (inserted) return inserted;
  // ON CONFLICT DO NOTHING waited for a concurrent insert to commit, so the row is visible now.
  const [existing] = await db
    .select(metaColumns)
    .from(images)
    .where(and(eq(images.ownerId, ownerId), eq(images.sha256, sha256)));
  if (existing!.gridWidth === null && input.grid) return setImageGrid(db, existing!, input.grid);
  return existing!;
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
