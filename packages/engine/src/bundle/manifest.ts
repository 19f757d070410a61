import { z } from "zod";

/**
 * padt.json, format version 4 (docs/bundle-format.md): the LLM graph embeds its own input
 * ids, uses fused attention and decodes a batch of sequences, each with its own prototypes
 * (version 2 took one sequence's; version 1 had a separate embed graph); the vision graph
 * attends per window (version 3 took a block mask's window_segments instead). Older versions are
 * not loaded (each would need a second decode path; `padt.export.refresh` re-exports them
 * from their own weights). Unknown keys are kept.
 */
const tensorSpec = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.union([z.number().int(), z.string()])),
});

const positiveInt = z.number().int().positive();

export const manifestSchema = z.object({
  format: z.literal("padt-bundle"),
  format_version: z.literal(5, {
    error:
      "expected 5 (re-export older bundles with the current exporter: cd tools && .venv/bin/python -m padt.export.refresh <bundle dir>)",
  }),
  model: z.object({ name: z.string().min(1) }),
  dtype: z.enum(["fp32", "fp16"]),
  kv_dtype: z.enum(["float32", "float16"]),
  // Weight-only quantisation of the LLM graph's weight MatMuls (the exporter's --quantize):
  // MatMulNBits blocks; activations and the KV cache keep `dtype`. Absent: none.
  quantization: z
    .object({
      method: z.literal("MatMulNBits"),
      bits: z.union([z.literal(4), z.literal(8)]),
      block_size: positiveInt,
      accuracy_level: z.number().int().min(0).max(4),
      graphs: z.array(z.string()),
    })
    .optional(),
  vision: z.object({
    depth: positiveInt,
    hidden_size: positiveInt,
    num_heads: positiveInt,
    head_dim: positiveInt,
    out_hidden_size: positiveInt,
    patch_size: positiveInt,
    temporal_patch_size: positiveInt,
    spatial_merge_size: positiveInt,
    in_channels: positiveInt,
    window_size: positiveInt,
    rope_theta: z.number().positive(),
  }),
  llm: z.object({
    hidden_size: positiveInt,
    num_layers: positiveInt,
    num_heads: positiveInt,
    num_kv_heads: positiveInt,
    head_dim: positiveInt,
    vocab_rows: positiveInt,
  }),
  decoder: z.object({ hidden_size: positiveInt, head_dim: positiveInt }),
  mask_placement: z.enum(["window", "spatial"]),
  // The features of an object that starts the answer (docs/decisions.md): the state that
  // predicted its first VRT (ours), or every prompt row (the reference's, for imported
  // checkpoints). Older bundles lack the key.
  first_vrt_features: z.enum(["last_prompt_row", "all_prompt_rows"]).default("last_prompt_row"),
  special_tokens: z.object({
    endoftext: z.number().int(),
    im_start: z.number().int(),
    im_end: z.number().int(),
    vision_start: z.number().int(),
    vision_end: z.number().int(),
    image_pad: z.number().int(),
    eos: z.array(z.number().int()).min(1),
  }),
  image_processor: z
    .object({
      min_pixels: positiveInt,
      max_pixels: positiveInt,
      patch_size: positiveInt,
      merge_size: positiveInt,
      temporal_patch_size: positiveInt,
      image_mean: z.tuple([z.number(), z.number(), z.number()]),
      image_std: z.tuple([z.number(), z.number(), z.number()]),
      default_long_side: positiveInt.nullable(),
      // The largest long side the vision tower takes; larger images are resized down to it,
      // which bounds the tower's memory (its attention is quadratic in the patch count).
      max_long_side: positiveInt,
    })
    .refine((p) => p.max_long_side % (p.patch_size * p.merge_size) === 0, {
      message: "max_long_side must be a multiple of patch_size * merge_size",
      path: ["max_long_side"],
    }),
  // What the model was trained for; bundles older than the keys were all PaDT Pro style.
  // `multi_turn` false: trained on one question per image, so the engine sends only the last
  // question (with the latest image) and says what it left out.
  capabilities: z
    .object({
      tasks: z.array(z.string().min(1)),
      free_chat: z.boolean(),
      multi_turn: z.boolean().default(true),
    })
    .default({ tasks: ["rec", "res", "ovd", "ric"], free_chat: true, multi_turn: true }),
  // The checkpoint's generation_config.json (transformers' defaults where it is silent, and
  // in bundles older than the keys): what a request gets unless it says otherwise.
  generation: z.object({
    max_new_tokens: positiveInt,
    repetition_penalty: z.number().positive().default(1),
    temperature: z.number().nonnegative().default(1),
    top_k: z.number().int().nonnegative().default(50),
    top_p: z.number().min(0).max(1).default(1),
  }),
  graphs: z.object({
    vision: z.object({
      file: z.string(),
      inputs: z.array(tensorSpec),
      outputs: z.array(tensorSpec),
    }),
    prototypes: z.object({
      file: z.string(),
      inputs: z.array(tensorSpec),
      outputs: z.array(tensorSpec),
    }),
    llm: z.object({ file: z.string(), inputs: z.array(tensorSpec), outputs: z.array(tensorSpec) }),
    decoder: z.object({
      file: z.string(),
      inputs: z.array(tensorSpec),
      outputs: z.array(tensorSpec),
    }),
  }),
  files: z.array(
    z.object({
      path: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      bytes: z.number().int().nonnegative(),
    }),
  ),
});

export type PadtManifest = z.infer<typeof manifestSchema>;
export type GraphName = keyof PadtManifest["graphs"];
