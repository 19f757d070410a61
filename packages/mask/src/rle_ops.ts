/** Set operations on RLEs with pycocotools' semantics (maskApi.c rleMerge, rleIou). */
import { bboxIou } from "./box.js";
import { type Rle, rleArea, rleToBbox } from "./rle.js";

function mergeTwo(a: readonly number[], b: readonly number[], intersect: boolean): number[] {
  const out: number[] = [];
  let ca = a[0] ?? 0;
  let cb = b[0] ?? 0;
  let v = false;
  let va = false;
  let vb = false;
  let ia = 1;
  let ib = 1;
  let cc = 0;
  let ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    cc += c;
    ct = 0;
    ca -= c;
    if (!ca && ia < a.length) {
      ca = a[ia++]!;
      va = !va;
    }
    ct += ca;
    cb -= c;
    if (!cb && ib < b.length) {
      cb = b[ib++]!;
      vb = !vb;
    }
    ct += cb;
    const vp: boolean = v;
    v = intersect ? va && vb : va || vb;
    if (v !== vp || ct === 0) {
      out.push(cc);
      cc = 0;
    }
  }
  return out;
}

/**
 * Union (or intersection) of masks of one size (pycocotools `merge(rles, intersect)`).
 * Masks of different sizes give an empty 0 x 0 RLE, as maskApi.c does.
 */
export function rleMerge(rles: readonly Rle[], intersect = false): Rle {
  const first = rles[0];
  if (!first) return { height: 0, width: 0, counts: [] };
  let counts = [...first.counts];
  for (const other of rles.slice(1)) {
    if (other.height !== first.height || other.width !== first.width) {
      return { height: 0, width: 0, counts: [] };
    }
    counts = mergeTwo(counts, other.counts, intersect);
  }
  return { height: first.height, width: first.width, counts };
}

/** Intersection and union pixel counts of two RLEs of one size. */
export function rleIntersectionUnion(a: Rle, b: Rle): { intersection: number; union: number } {
  if (a.height !== b.height || a.width !== b.width) {
    throw new RangeError(
      `masks differ in size: ${a.height} x ${a.width} and ${b.height} x ${b.width}`,
    );
  }
  const ka = a.counts.length;
  const kb = b.counts.length;
  let ca = a.counts[0] ?? 0;
  let cb = b.counts[0] ?? 0;
  let va = false;
  let vb = false;
  let ia = 1;
  let ib = 1;
  let intersection = 0;
  let union = 0;
  let ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    if (va || vb) {
      union += c;
      if (va && vb) intersection += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && ia < ka) {
      ca = a.counts[ia++]!;
      va = !va;
    }
    ct += ca;
    cb -= c;
    if (!cb && ib < kb) {
      cb = b.counts[ib++]!;
      vb = !vb;
    }
    ct += cb;
  }
  return { intersection, union };
}

/**
 * Mask IoU matrix, indexed [detection][groundTruth] (pycocotools `iou` on RLEs). For a crowd
 * ground truth the union is the detection's area alone; masks of different sizes give -1.
 */
export function rleIou(
  dt: readonly Rle[],
  gt: readonly Rle[],
  iscrowd: readonly boolean[] = [],
): number[][] {
  // maskApi.c only walks the runs where the tight boxes overlap.
  const boxes = bboxIou(dt.map(rleToBbox), gt.map(rleToBbox), iscrowd);
  return dt.map((d, i) =>
    gt.map((g, j) => {
      if (!(boxes[i]![j]! > 0)) return boxes[i]![j]!;
      if (d.height !== g.height || d.width !== g.width) return -1;
      const { intersection, union } = rleIntersectionUnion(d, g);
      if (intersection === 0) return 0;
      return intersection / (iscrowd[j] ? rleArea(d) : union);
    }),
  );
}
