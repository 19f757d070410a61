/**
 * Multimodal rotary cos/sin for the LLM (transformers 4.50.3 Qwen2_5_VLRotaryEmbedding +
 * apply_multimodal_rotary_pos_emb), so the LLM graph can take ready tables instead of
 * position ids. Dim d of the head uses frequency d mod headDim/2 and the axis of the
 * section it falls in: mrope_section [16, 24, 24] repeated twice gives t, h, w, t, h, w.
 */
import { angle, inverseFrequencies } from "./rope.js";
import type { RotaryTables } from "./vision_rotary.js";

export interface MropeConfig {
  /** LLM head dim (128 for 3B). */
  readonly headDim: number;
  /** rope_theta (1e6). */
  readonly theta: number;
  /** Frequencies per axis (t, h, w); sums to headDim / 2. */
  readonly mropeSection: readonly number[];
}

/** The axis (0 t, 1 h, 2 w) that drives each of the headDim dims. */
export function mropeAxes(config: MropeConfig): Uint8Array {
  const sections = config.mropeSection;
  const half = sections.reduce((a, b) => a + b, 0);
  if (sections.length !== 3 || half * 2 !== config.headDim) {
    throw new RangeError(`mrope_section ${sections} does not split head dim ${config.headDim}`);
  }
  const axes = new Uint8Array(config.headDim);
  let d = 0;
  for (let i = 0; i < 6; i++) {
    const end = d + sections[i % 3]!;
    axes.fill(i % 3, d, end);
    d = end;
  }
  return axes;
}

/** cos/sin [L, headDim] for positions [3, L] axis-major (ropeIndex / decodePositions). */
export function mropeTables(positions: Int32Array, config: MropeConfig): RotaryTables {
  const { headDim } = config;
  const length = positions.length / 3;
  if (!Number.isInteger(length)) throw new RangeError("positions are not [3, L]");
  const freqs = inverseFrequencies(headDim, config.theta);
  const axes = mropeAxes(config);
  const cos = new Float32Array(length * headDim);
  const sin = new Float32Array(length * headDim);
  for (let l = 0; l < length; l++) {
    for (let d = 0; d < headDim; d++) {
      const a = angle(positions[axes[d]! * length + l]!, freqs[d % freqs.length]!);
      cos[l * headDim + d] = Math.cos(a);
      sin[l * headDim + d] = Math.sin(a);
    }
  }
  return { cos, sin };
}
