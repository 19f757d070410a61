/** Python's numeric semantics where the reference depends on them (PITFALLS.md). */

/**
 * Python 3 `round(x)`: to the nearest integer, ties to even (Math.round rounds ties up).
 * x - floor(x) is exact for doubles, so the tie test is exact too.
 */
export function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
