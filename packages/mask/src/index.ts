export { type BboxXywh, bboxIou, bboxPairIou } from "./box.js";
export {
  type Rle,
  rleArea,
  rleDecode,
  rleDecodeRowMajor,
  rleEncode,
  rleEncodeRowMajor,
  rleToBbox,
} from "./rle.js";
export { type RleMask, rleFromMask, rleToMask } from "./rle_mask.js";
export { rleIntersectionUnion, rleIou, rleMerge } from "./rle_ops.js";
export { rleFromBbox, rleFromPolygon } from "./rle_poly.js";
export {
  type CocoRle,
  countsFromString,
  countsToString,
  rleFromCoco,
  rleToCoco,
} from "./rle_string.js";
