/**
 * A prompt's prefill as several LLM calls of at most `chunk` tokens each, every one after the
 * cache of the ones before (chunked prefill): the step scheduler can run the batch's decode
 * steps between them, so a long prompt delays the members by one chunk at a time.
 */

export interface PrefillChunk {
  /** [L] graph ids; this chunk's image placeholders count from its own first image row. */
  ids: BigInt64Array;
  /** [I, D] the rows of this chunk's image placeholders. */
  imageRows: Float32Array;
  /** [3, L] M-RoPE positions, axis-major. */
  positions: BigInt64Array;
  /** Cache length after the call. */
  totalLength: number;
}

/**
 * `ids`: the whole prompt's graph ids (PadtModel.graphIds: the i-th image placeholder is
 * `firstImageId + i`, row i of `imageRows` [I, D]); `positions` [3, L] axis-major; `chunk`
 * tokens per call, 0 for one call. The chunks' ids, rows and positions, in order.
 */
export function prefillChunks(
  ids: BigInt64Array,
  imageRows: Float32Array,
  positions: BigInt64Array,
  firstImageId: number,
  hidden: number,
  chunk: number,
): PrefillChunk[] {
  const total = ids.length;
  const size = chunk > 0 ? chunk : total;
  const first = BigInt(firstImageId);
  const chunks: PrefillChunk[] = [];
  let row = 0;
  for (let start = 0; start < total; start += size) {
    const end = Math.min(total, start + size);
    const local = ids.slice(start, end);
    let rows = 0;
    for (let i = 0; i < local.length; i++) {
      const id = local[i] as bigint;
      if (id >= first) {
        local[i] = id - BigInt(row);
        rows++;
      }
    }
    const at = new BigInt64Array(3 * (end - start));
    for (let axis = 0; axis < 3; axis++)
      at.set(positions.subarray(axis * total + start, axis * total + end), axis * (end - start));
    chunks.push({
      ids: local,
      imageRows: imageRows.subarray(row * hidden, (row + rows) * hidden),
      positions: at,
      totalLength: end,
    });
    row += rows;
  }
  return chunks;
}
