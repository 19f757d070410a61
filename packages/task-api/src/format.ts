/** Pieces of `padt run`'s readable output that every plugin's `format` writes the same way. */
import type { Box } from "@padt/protocol";

const n = (v: number) => v.toFixed(1);

export const formatBox = (b: Box) => `box x=${n(b.x)} y=${n(b.y)} w=${n(b.width)} h=${n(b.height)}`;
export const formatScore = (s: number) => `score ${s.toFixed(3)}`;
