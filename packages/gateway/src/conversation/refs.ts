import { ErrorCode, PadtError } from "@padt/protocol";
import type { ImageGrid } from "../db/repos/images.js";

/**
 * VisualRef ids: a reference is the `index`-th object of a message, so its id is derived
 * from both (`vref_<message uuid>_<index>`). It exists while the answer streams, before any
 * row does, and stays the same once the answer is stored. Other nodes keep their UUIDs.
 */
export function visualRefId(messageId: string, index: number): string {
  return `vref_${messageId}_${index}`;
}

export function parseVisualRefId(id: string): { messageId: string; index: number } | undefined {
  const match = /^vref_([0-9a-f-]{36})_(\d{1,6})$/i.exec(id);
  if (!match) return undefined;
  return { messageId: match[1]!.toLowerCase(), index: Number(match[2]) };
}

/** An image's patch grid, as stored with it (the engine's answer at upload). */
export type Grid = ImageGrid;

function invalid(message: string): PadtError {
  return new PadtError(ErrorCode.VISUAL_REF_INVALID, message);
}

/**
 * Checks patch indices against the image's grid (integers, in range) and drops repeats,
 * keeping first-seen order: answers carry the model's raw runs (`[8, 8, 8, 8, 8]`, stored as
 * emitted), and a client that sends one back means the patches, not the run.
 */
export function checkPatches(patches: readonly number[], grid: Grid): number[] {
  const cells = grid.gridWidth * grid.gridHeight;
  if (patches.length === 0) throw invalid("a visual reference needs at least one patch");
  for (const p of patches) {
    if (!Number.isInteger(p) || p < 0 || p >= cells)
      throw invalid(`patch ${p} is outside the image's ${grid.gridWidth}x${grid.gridHeight} grid`);
  }
  return [...new Set(patches)];
}

/**
 * The grid cells (row-major) that a box in image pixels covers, partly or wholly. The box
 * must lie inside the image; each cell spans width/gridWidth by height/gridHeight pixels.
 */
export function boxToPatches(
  box: { x: number; y: number; width: number; height: number },
  image: { width: number; height: number },
  grid: Grid,
): number[] {
  const { x, y, width, height } = box;
  if (![x, y, width, height].every(Number.isFinite) || width <= 0 || height <= 0)
    throw invalid("a box needs finite coordinates and a positive width and height");
  if (x < 0 || y < 0 || x + width > image.width + 1e-6 || y + height > image.height + 1e-6)
    throw invalid(`the box is not inside the ${image.width}x${image.height} image`);
  const cw = image.width / grid.gridWidth;
  const ch = image.height / grid.gridHeight;
  const c0 = Math.min(grid.gridWidth - 1, Math.floor(x / cw));
  const c1 = Math.min(grid.gridWidth - 1, Math.ceil((x + width) / cw) - 1);
  const r0 = Math.min(grid.gridHeight - 1, Math.floor(y / ch));
  const r1 = Math.min(grid.gridHeight - 1, Math.ceil((y + height) / ch) - 1);
  const patches: number[] = [];
  for (let r = r0; r <= r1; r++)
    for (let c = c0; c <= Math.max(c0, c1); c++) patches.push(r * grid.gridWidth + c);
  return patches;
}
