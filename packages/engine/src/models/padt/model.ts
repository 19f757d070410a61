/**
 * The bundle's five graphs behind typed methods (runs inside a model worker). Grid math
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
    private readonly sessions: Record<GraphName, ModelSession>,
  ) {
    const v = manifest.vision;
    this.geometry = {
      patchSize: v.patch_size,
      spatialMergeSize: v.spatial_merge_size,
      windowSize: v.window_size,
    };
    this.hidden = manifest.llm.hidden_size;
  }

  static async open(
    dir: string,
    manifest: PadtManifest,
    options: SessionOptions,
  ): Promise<PadtModel> {
    const names = Object.keys(manifest.graphs) as GraphName[];
    // Opened by path so onnxruntime finds the external weights file beside the graphs.
    const opened = await Promise.all(
      names.map((n) => openSession(join(dir, manifest.graphs[n].file), options)),
    );
    const sessions = Object.fromEntries(names.map((n, i) => [n, opened[i]])) as Record<
      GraphName,
      ModelSession
    >;
    const tokenizer = await TextTokenizer.load(dir);
    const template = new ChatTemplate(await readFile(join(dir, "chat_template.jinja"), "utf8"));
    return new PadtModel(manifest, tokenizer, template, sessions);
  }

  /** The provider the graphs run on, and why it differs from the request, if it does. */
  get provider(): { name: ModelSession["provider"]; fallbackReason?: string } {
    const llm = this.sessions.llm;
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
    const out = await this.sessions.vision.run({
      pixel_values: { type: "float32", dims: [n, row], data: image.pixelValues },
      window_index: { type: "int64", dims: [units], data: i64(layout.windowIndex) },
      reverse_index: { type: "int64", dims: [units], data: i64(layout.reverseIndex) },
      window_segments: { type: "int64", dims: [n], data: i64(segmentIds(layout.cuWindowSeqlens)) },
      full_segments: { type: "int64", dims: [n], data: i64(segmentIds(layout.cuSeqlens)) },
      cos: { type: "float32", dims: [n, hd], data: cos },
      sin: { type: "float32", dims: [n, hd], data: sin },
    });
    const embeds = float32(out.image_embeds, "image_embeds");
    const protos = await this.sessions.prototypes.run({
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
   * [L, D] input embeddings for ids: text rows from the embed graph; VRT ids (>= V) take
   * the prototype row they point at (`prototypes`: all images' P, concatenated).
   */
  async embed(ids: ArrayLike<number>, prototypes: Float32Array): Promise<Float32Array> {
    const V = this.manifest.llm.vocab_rows;
    const d = this.hidden;
    const textIds = BigInt64Array.from(Array.from(ids), (id) => BigInt(id >= V ? 0 : id));
    const out = await this.sessions.embed.run({
      input_ids: { type: "int64", dims: [1, ids.length], data: textIds },
    });
    const embeds = float32(out.inputs_embeds, "inputs_embeds");
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id < V) continue;
      const r = id - V;
      embeds.set(prototypes.subarray(r * d, (r + 1) * d), i * d);
    }
    return embeds;
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

  /** One LLM call: prefill (past empty) or decode; positions are [3, L] axis-major. */
  async step(
    embeds: Float32Array,
    positions: Int32Array,
    totalLength: number,
    past: TensorData[],
    prototypes: Float32Array,
    vrtBias: Float32Array,
  ): Promise<StepOutput> {
    const d = this.hidden;
    const length = embeds.length / d;
    const feeds: Record<string, TensorData> = {
      inputs_embeds: { type: "float32", dims: [1, length, d], data: embeds },
      position_ids: { type: "int64", dims: [3, 1, length], data: i64(positions) },
      attention_mask: {
        type: "int64",
        dims: [1, totalLength],
        data: new BigInt64Array(totalLength).fill(1n),
      },
      prototypes: { type: "float32", dims: [vrtBias.length, d], data: prototypes },
      vrt_bias: { type: "float32", dims: [vrtBias.length], data: vrtBias },
    };
    for (let i = 0; i < this.manifest.llm.num_layers; i++) {
      feeds[`past_key_values.${i}.key`] = past[2 * i] as TensorData;
      feeds[`past_key_values.${i}.value`] = past[2 * i + 1] as TensorData;
    }
    const out = await this.sessions.llm.run(feeds);
    const present: TensorData[] = [];
    for (let i = 0; i < this.manifest.llm.num_layers; i++) {
      present.push(out[`present.${i}.key`] as TensorData, out[`present.${i}.value`] as TensorData);
    }
    const hidden = float32(out.hidden_states, "hidden_states");
    return {
      logits: float32(out.logits, "logits"),
      lastHidden: hidden.slice((length - 1) * d, length * d),
      hidden,
      present,
    };
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
    const out = await this.sessions.decoder.run({
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
