/** One colour per object of an answer, by its index: distinct hues that read on light and dark. */
const COLOURS = [
  [230, 25, 75],
  [60, 180, 75],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 200, 200],
  [240, 50, 230],
  [170, 110, 40],
] as const;

export function colourOf(index: number): [number, number, number] {
  const c = COLOURS[index % COLOURS.length]!;
  return [c[0], c[1], c[2]];
}

export const cssColour = (index: number, alpha = 1) => {
  const [r, g, b] = colourOf(index);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
};

/** Patch indices without repeats (an answer may name the same cell several times). */
export const uniquePatches = (patches: number[]) => [...new Set(patches)];
