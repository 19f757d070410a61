import type { Box } from "@padt/engine";
import { bboxPairIou } from "@padt/mask";

/** IoU of two boxes in continuous pixel coordinates; 0 when they do not overlap (as the PaDT reference). */
export function boxIou(a: Box, b: Box): number {
  return bboxPairIou([a.x, a.y, a.width, a.height], [b.x, b.y, b.width, b.height]);
}
