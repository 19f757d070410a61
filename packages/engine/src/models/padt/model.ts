/**
 * The bundle's four graphs behind typed methods (runs inside a model worker). Grid math
 * comes from vision_grid / vision_rotary / positions; this file only feeds and reads tensors.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ModelSession,
  openSession,
  type SessionOptions,
  type TensorData,
} from "../../backend/ort.js";
import type { GraphName, PadtManifest } from "../../bundle/manifest.js";
import { ChatTemplate } from "../../text/chat_template.js";
import { TextTokenizer } from "../../text/tokenizer.js";
import type { PreprocessedImage } from "./image_processing.js";
import {
  type ImageGrid,
  inversePermutation,
  segmentIds,
  type VisionGeometry,
  windowBatch,
  windowLayout,
} from "./vision_grid.js";
import { visionRotaryTables, windowOrderPositions } from "./vision_rotary.js";

/** One image through the vision tower and the prototype projection. */
export interface EncodedImage {
  readonly grid: ImageGrid;
  /** Merge units U = h * w / 4. */
  readonly units: number;
  /** E [U, D], raster merge order: the LLM's image-token embeddings. */
  readonly embeds: Float32Array;
  /** P [U, D]: visual reference token embeddings and output rows. */
  readonly prototypes: Float32Array;
  /** Pre-merger hidden states [N, Dv], window order (the decoder's high-res memory). */
  readonly highRes: Float32Array;
  readonly cos: Float32Array;
  readonly sin: Float32Array;
  /** Decoder input: which high-res row each 14-px cell shows (mask placement). */
  readonly rowOfCell: BigInt64Array;
}

export interface StepOutput {
  /** Last position's logits over text rows then VRT rows (bias applied). */
  logits: Float32Array;
  /** Final-norm hidden state of the last position [D]. */
  lastHidden: Float32Array;
  /** Final-norm hidden states of every position of the call [L, D]. */
  hidden: Float32Array;
  present: TensorData[];
}

export interface StepInput {
  /** [L] graph ids (graphIds). */
  ids: BigInt64Array;
  /** [I, D] rows of the image placeholders among `ids`; empty in decode. */
  imageRows: Float32Array;
  /** [3, L] M-RoPE positions, axis-major. */
  positions: BigInt64Array;
  totalLength: number;
  /** P of every image, concatenated [R, D]: the VRT ids' input rows and output rows. */
  prototypes: Float32Array;
  /** [R] 0 for the current image's patches, -inf elsewhere. */
  vrtBias: Float32Array;
}

export interface BatchStepInput {
  /** [B] each sequence's next id (graph ids: VRT ids are V + its own prototype row). */
  ids: BigInt64Array;
  /** [3, B] M-RoPE positions, axis-major. */
  positions: BigInt64Array;
  /** [B] each sequence's cache length before the call. */
  lengths: Int32Array;
  /** [B, P, D] each sequence's prototypes, zero-padded to P rows. */
  prototypes: Float32Array;
  /** [B, P] each sequence's VRT bias, -inf on its padding rows. */
  vrtBias: Float32Array;
}

export interface BatchStepOutput {
  /** [B, V + P] each sequence's logits over text rows then its padded VRT rows. */
  logits: Float32Array;
  /** [B, D] each sequence's final-norm hidden state. */
  hidden: Float32Array;
  /**
   * Per layer, [B, 1, (H + 2 KV) * hd]: the rotated q|k|v rows the layer's attention took,
   * whose k and v heads are the row the call appended to each sequence's cache (appendRows).
   */
  appended: TensorData[];
}

export interface DecodedBatch {
  boxes: Float32Array;
  scoreLogits: Float32Array;
  /** [n, 4*H14, 4*W14] */
  maskLogits: Float32Array;
}

const i64 = (values: ArrayLike<number>) => BigInt64Array.from(Array.from(values), (v) => BigInt(v));

export class PadtModel {
  readonly geometry: VisionGeometry;
  readonly hidden: number;

  private constructor(
    readonly manifest: PadtManifest,
    readonly tokenizer: TextTokenizer,
    readonly template: ChatTemplate,
    private readonly sessions: Partial<Record<GraphName, ModelSession>>,
  ) {
    const v = manifest.vision;
    this.geometry = {
      patchSize: v.patch_size,
      spatialMergeSize: v.spatial_merge_size,
      windowSize: v.window_size,
    };
    this.hidden = manifest.llm.hidden_size;
  }

  /**
   * `graphs`: the graphs to open (all by default). A thread that runs only some of them (the
   * decoder thread, or a worker whose objects decode there) opens only those, so no graph's
   * weights sit in memory twice; calling into one not opened throws.
   */
  static async open(
    dir: string,
    manifest: PadtManifest,
    options: SessionOptions,
    graphs: readonly GraphName[] = Object.keys(manifest.graphs) as GraphName[],
  ): Promise<PadtModel> {
    // Opened by path so onnxruntime finds the external weights file beside the graphs.
    const opened = await Promise.all(
      graphs.map((n) => openSession(join(dir, manifest.graphs[n].file), options)),
    );
    const sessions: Partial<Record<GraphName, ModelSession>> = Object.fromEntries(
      graphs.map((n, i) => [n, opened[i]]),
    );
    const tokenizer = await TextTokenizer.load(dir);
    const template = new ChatTemplate(await readFile(join(dir, "chat_template.jinja"), "utf8"));
    return new PadtModel(manifest, tokenizer, template, sessions);
  }

  private session(name: GraphName): ModelSession {
    const session = this.sessions[name];
    if (!session) throw new Error(`the ${name} graph was not opened in this thread`);
    return session;
  }

  /** The provider the graphs run on, and why it differs from the request, if it does. */
  get provider(): { name: ModelSession["provider"]; fallbackReason?: string } {
    const llm = Object.values(this.sessions)[0] as ModelSession;
    return llm.fallbackReason
      ? { name: llm.provider, fallbackReason: llm.fallbackReason }
      : { name: llm.provider };
  }

  async encodeImage(image: PreprocessedImage): Promise<EncodedImage> {
    const grid = { h: image.gridThw[1], w: image.gridThw[2] };
    const n = grid.h * grid.w;
    const units = n / this.geometry.spatialMergeSize ** 2;
    const layout = windowLayout([grid], this.geometry);
    const { cos, sin } = visionRotaryTables(
      windowOrderPositions([grid], this.geometry, layout.windowIndex),
      this.manifest.vision.head_dim,
      this.manifest.vision.rope_theta,
    );
    const hd = this.manifest.vision.head_dim;
    const row = image.pixelValues.length / n;
    const windows = windowBatch(layout.cuWindowSeqlens);
    const out = await this.session("vision").run({
      pixel_values: { type: "float32", dims: [n, row], data: image.pixelValues },
      window_index: { type: "int64", dims: [units], data: i64(layout.windowIndex) },
      reverse_index: { type: "int64", dims: [units], data: i64(layout.reverseIndex) },
      window_slots: {
        type: "int64",
        dims: [windows.count, windows.length],
        data: i64(windows.slots),
      },
      window_rows: { type: "int64", dims: [n], data: i64(windows.rows) },
      full_segments: { type: "int64", dims: [n], data: i64(segmentIds(layout.cuSeqlens)) },
      cos: { type: "float32", dims: [n, hd], data: cos },
      sin: { type: "float32", dims: [n, hd], data: sin },
    });
    const embeds = float32(out.image_embeds, "image_embeds");
    const protos = await this.session("prototypes").run({
      image_embeds: { type: "float32", dims: [units, this.hidden], data: embeds },
    });
    return {
      grid,
      units,
      embeds,
      prototypes: float32(protos.prototypes, "prototypes"),
      highRes: float32(out.high_res, "high_res"),
      cos,
      sin,
      rowOfCell: i64(this.rowOfCell(layout.windowIndex, grid)),
    };
  }

  /**
   * The LLM graph's ids for a prompt: text ids and VRT ids (V + prototype row) as they are;
   * the i-th image placeholder becomes V + R + i, row i of the image rows fed beside it
   * (R: the prototype rows). The graph embeds all three kinds itself (format version 2 on).
   */
  graphIds(ids: ArrayLike<number>, prototypeRows: number): BigInt64Array {
    const V = this.manifest.llm.vocab_rows;
    const pad = this.manifest.special_tokens.image_pad;
    const out = new BigInt64Array(ids.length);
    let row = V + prototypeRows;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      out[i] = BigInt(id === pad ? row++ : id);
    }
    return out;
  }

  /** An empty KV cache for prefill. */
  emptyPast(): TensorData[] {
    const { num_layers, num_kv_heads, head_dim } = this.manifest.llm;
    const dims = [1, num_kv_heads, 0, head_dim];
    return Array.from(
      { length: 2 * num_layers },
      (): TensorData =>
        this.manifest.kv_dtype === "float16"
          ? { type: "float16", dims, data: new Uint16Array(0) }
          : { type: "float32", dims, data: new Float32Array(0) },
    );
  }

  /**
   * One LLM call, embedding included: prefill (past empty) or decode. `ids` from graphIds
   * (a decode step: the sampled id itself), `imageRows` [I, D] the placeholders' rows (empty
   * in decode), `positions` [3, L] axis-major, `totalLength` the cache length after the call.
   * One sequence (B = 1); decode steps of several run through stepBatch.
   */
  async step(input: StepInput, past: TensorData[]): Promise<StepOutput> {
    const d = this.hidden;
    const length = input.ids.length;
    const feeds: Record<string, TensorData> = {
      input_ids: { type: "int64", dims: [1, length], data: input.ids },
      image_embeds: {
        type: "float32",
        dims: [input.imageRows.length / d, d],
        data: input.imageRows,
      },
      position_ids: { type: "int64", dims: [3, 1, length], data: input.positions },
      prototypes: {
        type: "float32",
        dims: [1, input.vrtBias.length, d],
        data: input.prototypes,
      },
      vrt_bias: { type: "float32", dims: [1, input.vrtBias.length], data: input.vrtBias },
      // GroupQueryAttention's lengths: its causal mask needs no mask tensor.
      seqlens_k: { type: "int32", dims: [1], data: Int32Array.of(input.totalLength - 1) },
      total_sequence_length: { type: "int32", dims: [], data: Int32Array.of(input.totalLength) },
    };
    for (let i = 0; i < this.manifest.llm.num_layers; i++) {
      feeds[`past_key_values.${i}.key`] = past[2 * i] as TensorData;
      feeds[`past_key_values.${i}.value`] = past[2 * i + 1] as TensorData;
    }
    const out = await this.session("llm").run(feeds);
    const hidden = float32(out.hidden_states, "hidden_states");
    return {
      logits: float32(out.logits, "logits"),
      lastHidden: hidden.subarray((length - 1) * d, length * d),
      hidden,
      present: this.presentOf(out),
    };
  }

  /**
   * One decode token for each of B sequences in one LLM call (format 3). Sequence b's cache
   * rows are `past[..][b, :, 0:lengths[b], :]`, right-padded to the longest; its prototypes
   * are zero-padded to P rows with -inf bias on the padding, so its VRT logits cover only its
   * own images; the past tensors may have more rows than the longest (a buffer with room).
   * `positions` [3, B] axis-major. Returns only the rows the call appended (`appended`, each
   * sequence's at its own length), not the present tensors: onnxruntime-node would copy the
   * whole cache into new arrays every step. The caller writes them into its cache (appendRows).
   * The graph's ids index all sequences' prototypes flattened (format 5): sequence b's VRT id
   * V + r is fed as V + b * P + r.
   */
  async stepBatch(input: BatchStepInput, past: TensorData[]): Promise<BatchStepOutput> {
    const d = this.hidden;
    const batch = input.ids.length;
    const rows = input.vrtBias.length / batch;
    let longest = 0;
    for (const n of input.lengths) longest = Math.max(longest, n);
    const V = BigInt(this.manifest.llm.vocab_rows);
    const ids = BigInt64Array.from(input.ids, (id, b) => (id < V ? id : id + BigInt(b * rows)));
    const feeds: Record<string, TensorData> = {
      input_ids: { type: "int64", dims: [batch, 1], data: ids },
      image_embeds: { type: "float32", dims: [0, d], data: new Float32Array(0) },
      position_ids: { type: "int64", dims: [3, batch, 1], data: input.positions },
      prototypes: { type: "float32", dims: [batch, rows, d], data: input.prototypes },
      vrt_bias: { type: "float32", dims: [batch, rows], data: input.vrtBias },
      // Each sequence's total length after the call, minus one: its cache length.
      seqlens_k: { type: "int32", dims: [batch], data: input.lengths },
      total_sequence_length: { type: "int32", dims: [], data: Int32Array.of(longest + 1) },
    };
    const appended: string[] = [];
    for (let i = 0; i < this.manifest.llm.num_layers; i++) {
      feeds[`past_key_values.${i}.key`] = past[2 * i] as TensorData;
      feeds[`past_key_values.${i}.value`] = past[2 * i + 1] as TensorData;
      appended.push(`appended.${i}`);
    }
    const out = await this.session("llm").run(feeds, ["logits", "hidden_states", ...appended]);
    return {
      logits: float32(out.logits, "logits"),
      hidden: float32(out.hidden_states, "hidden_states"),
      appended: appended.map((name) => out[name] as TensorData),
    };
  }

  private presentOf(out: Record<string, TensorData>): TensorData[] {
    const present: TensorData[] = [];
    for (let i = 0; i < this.manifest.llm.num_layers; i++) {
      present.push(out[`present.${i}.key`] as TensorData, out[`present.${i}.value`] as TensorData);
    }
    return present;
  }

  /** All objects of one image in one decoder run, features zero-padded to the longest. */
  async decode(features: readonly Float32Array[], image: EncodedImage): Promise<DecodedBatch> {
    const d = this.hidden;
    const k = Math.max(...features.map((f) => f.length / d));
    const batch = new Float32Array(features.length * k * d);
    const valid = new Uint8Array(features.length * k);
    features.forEach((f, i) => {
      batch.set(f, i * k * d);
      valid.fill(1, i * k, i * k + f.length / d);
    });
    const { h, w } = image.grid;
    const n = h * w;
    const hd = this.manifest.vision.head_dim;
    const out = await this.session("decoder").run({
      features: { type: "float32", dims: [features.length, k, d], data: batch },
      feature_mask: { type: "bool", dims: [features.length, k], data: valid },
      prototypes: { type: "float32", dims: [image.units, d], data: image.prototypes },
      high_res: { type: "float32", dims: [n, image.highRes.length / n], data: image.highRes },
      cos: { type: "float32", dims: [n, hd], data: image.cos },
      sin: { type: "float32", dims: [n, hd], data: image.sin },
      row_of_cell: { type: "int64", dims: [n], data: image.rowOfCell },
      // Only its shape is read: it carries the grid size into the graph.
      mask_grid: { type: "uint8", dims: [h, w], data: new Uint8Array(n) },
    });
    return {
      boxes: float32(out.boxes, "boxes"),
      scoreLogits: float32(out.score_logits, "score_logits"),
      maskLogits: float32(out.mask_logits, "mask_logits"),
    };
  }

  /** "window": the reference's placement (row i at cell i); "spatial": each patch's own row. */
  private rowOfCell(windowIndex: Int32Array, grid: ImageGrid): Int32Array {
    const n = grid.h * grid.w;
    if (this.manifest.mask_placement === "window")
      return Int32Array.from({ length: n }, (_, i) => i);
    const m = this.geometry.spatialMergeSize;
    const unit = m * m;
    const w28 = grid.w / m;
    const cellOfRow = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const u = windowIndex[Math.floor(r / unit)] as number;
      const sub = r % unit;
      const y = Math.floor(u / w28) * m + Math.floor(sub / m);
      const x = (u % w28) * m + (sub % m);
      cellOfRow[r] = y * grid.w + x;
    }
    return inversePermutation(cellOfRow);
  }
}

function float32(t: TensorData | undefined, name: string): Float32Array {
  if (t?.type !== "float32") throw new Error(`graph output ${name} is missing or not float32`);
  return t.data;
}
