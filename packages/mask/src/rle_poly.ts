/**
 * Polygon and box rasterisation with pycocotools' semantics (maskApi.c rleFrPoly, rleFrBbox):
 * the outline is upsampled 5x, walked one step per pixel along its longer axis, and the
 * column crossings are turned into runs. C's int casts are reproduced: truncation toward
 * zero, and INT_MIN for NaN (a repeated vertex) as x86 gives it.
 */
import type { BboxXywh } from "./box.js";
import type { Rle } from "./rle.js";

const SCALE = 5;

function cInt(v: number): number {
  return Number.isNaN(v) || v >= 2 ** 31 || v < -(2 ** 31) ? -(2 ** 31) : Math.trunc(v);
}

/** Dense integer points along the closed outline, at 5x scale. */
function outline(xy: readonly number[], k: number): { u: number[]; v: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let j = 0; j < k; j++) x.push(cInt(SCALE * xy[2 * j]! + 0.5));
  for (let j = 0; j < k; j++) y.push(cInt(SCALE * xy[2 * j + 1]! + 0.5));
  x.push(x[0]!);
  y.push(y[0]!);
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j]!;
    let xe = x[j + 1]!;
    let ys = y[j]!;
    let ye = y[j + 1]!;
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(cInt(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(cInt(xs + s * t + 0.5));
      }
    }
  }
  return { u, v };
}

/** Rasterises one polygon [x0, y0, x1, y1, ...] (pycocotools frPyObjects on a polygon). */
export function rleFromPolygon(xy: readonly number[], height: number, width: number): Rle {
  const k = Math.floor(xy.length / 2);
  const { u, v } = outline(xy, k);
  // Points where the outline crosses a pixel column, downsampled to pixel coordinates.
  const starts: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    xd = (xd + 0.5) / SCALE - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) continue;
    let yd = Math.min(v[j]!, v[j - 1]!);
    yd = (yd + 0.5) / SCALE - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > height) yd = height;
    yd = Math.ceil(yd);
    starts.push((cInt(xd) * height + cInt(yd)) >>> 0);
  }
  starts.push((height * width) >>> 0);
  starts.sort((a, b) => a - b);
  let previous = 0;
  const a = starts.map((value) => {
    const delta = value - previous;
    previous = value;
    return delta;
  });
  const counts = [a[0]!];
  let j = 1;
  while (j < a.length) {
    if (a[j]! > 0) counts.push(a[j++]!);
    else {
      j++;
      if (j < a.length) counts[counts.length - 1]! += a[j++]!;
    }
  }
  return { height, width, counts };
}

/** Rasterises a box [x, y, w, h] as its 4-point polygon (rleFrBbox). */
export function rleFromBbox(bbox: BboxXywh, height: number, width: number): Rle {
  const [xs, ys] = bbox;
  const xe = xs + bbox[2];
  const ye = ys + bbox[3];
  return rleFromPolygon([xs, ys, xs, ye, xe, ye, xe, ys], height, width);
}
