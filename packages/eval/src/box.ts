import { bboxPairIou } from "@padt/mask";
import type { Box } from "@padt/protocol";

/** IoU of two boxes in continuous pixel coordinates; 0 when they do not overlap (as the PaDT reference). */
export function boxIou(a: Box, b: Box): number {
  return bboxPairIou([a.x, a.y, a.width, a.height], [b.x, b.y, b.width, b.height]);
}
