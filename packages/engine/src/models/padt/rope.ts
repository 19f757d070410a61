/**
 * Rotary frequencies in float32, step for step as PyTorch computes them, so tables built
 * here match transformers' to float32 rounding. The angle pos * inv_freq is rounded to
 * float32 before cos/sin, as torch does: at position 30000 one float32 step of the angle
 * is 0.002, far more than the tolerance a double-precision angle would be off by.
 */

const f32 = Math.fround;

/** 1 / theta^(2i / dim) for i < dim / 2, each operation rounded to float32. */
export function inverseFrequencies(dim: number, theta: number): Float32Array {
  if (!Number.isInteger(dim) || dim <= 0 || dim % 2 !== 0) {
    throw new RangeError(`rotary dim ${dim} is not a positive even integer`);
  }
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = f32(1 / f32(theta ** f32((2 * i) / dim)));
  }
  return out;
}

/** float32 product of a position and an inverse frequency: the angle torch rotates by. */
export function angle(position: number, inverseFrequency: number): number {
  return f32(position * inverseFrequency);
}
