/** The model's patch grid over an image: gridWidth x gridHeight cells of 28 model pixels. */
export interface Grid {
  width: number;
  height: number;
  gridWidth: number;
  gridHeight: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The cell of a (row-major) patch index, in original image pixels. */
export function patchRect(grid: Grid, patch: number): Rect {
  const cw = grid.width / grid.gridWidth;
  const ch = grid.height / grid.gridHeight;
  const col = patch % grid.gridWidth;
  const row = Math.floor(patch / grid.gridWidth);
  return { x: col * cw, y: row * ch, width: cw, height: ch };
}

/** The patch under a point given in original image pixels. */
export function patchAt(grid: Grid, x: number, y: number): number {
  const col = Math.min(
    grid.gridWidth - 1,
    Math.max(0, Math.floor((x / grid.width) * grid.gridWidth)),
  );
  const row = Math.min(
    grid.gridHeight - 1,
    Math.max(0, Math.floor((y / grid.height) * grid.gridHeight)),
  );
  return row * grid.gridWidth + col;
}
