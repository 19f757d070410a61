// The only module that imports onnxruntime: the rest of the engine sees plain typed arrays.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { ErrorCode, PadtError } from "@padt/protocol";
import * as ort from "onnxruntime-node";

export type ExecutionProvider = "cpu" | "cuda" | "webgpu";
/** What to do when the requested provider cannot start: run on CPU (and say so) or fail. */
export type FallbackPolicy = "cpu" | "error";

export interface SessionOptions {
  provider?: ExecutionProvider;
  fallback?: FallbackPolicy;
  /** Threads inside one operator; default: the cores minus one (defaultIntraOpThreads). */
  intraOpThreads?: number;
  interOpThreads?: number;
  /**
   * Let idle pool threads spin-wait for work. Default off: next to the event loop and the
   * worker thread, spinning threads took the cores they wait for (measured on 2 cores: decode
   * 2.2-3.1x slower than 1 thread with onnxruntime's defaults; spinning off alone gave -21 %
   * decode and -52 % prefill time at 2 threads).
   */
  allowSpinning?: boolean;
  /**
   * Let onnxruntime repack MatMul weights into its GEMM layout at load (default true). Off,
   * the weights stay in the memory-mapped weights file: loading is near instant and a weight
   * two nodes share (a tied LM head and token embedding) is held once instead of twice.
   */
  prepackWeights?: boolean;
}

/** One core is left to the event loop and the worker thread that feeds onnxruntime. */
export function defaultIntraOpThreads(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/** The onnxruntime session options for ours (exported for its unit test). */
export function ortSessionOptions(
  provider: ExecutionProvider,
  options: SessionOptions,
): ort.InferenceSession.SessionOptions {
  const spin = options.allowSpinning ? "1" : "0";
  return {
    executionProviders: provider === "cpu" ? ["cpu"] : [provider, "cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: options.intraOpThreads ?? defaultIntraOpThreads(),
    ...(options.interOpThreads ? { interOpNumThreads: options.interOpThreads } : {}),
    // Session config entries "session.intra_op.allow_spinning" / "session.inter_op...".
    extra: {
      session: {
        intra_op: { allow_spinning: spin },
        inter_op: { allow_spinning: spin },
        ...(options.prepackWeights === false ? { disable_prepacking: "1" } : {}),
      },
    },
  };
}

export type TensorData =
  | { type: "float32"; dims: readonly number[]; data: Float32Array }
  | { type: "float16"; dims: readonly number[]; data: Uint16Array }
  | { type: "int64"; dims: readonly number[]; data: BigInt64Array }
  | { type: "int32"; dims: readonly number[]; data: Int32Array }
  | { type: "bool"; dims: readonly number[]; data: Uint8Array }
  | { type: "uint8"; dims: readonly number[]; data: Uint8Array };

export interface ModelSession {
  /** The provider the session really runs on (after any fallback). */
  readonly provider: ExecutionProvider;
  /** Why it fell back to CPU, when it did. */
  readonly fallbackReason?: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * `outputs`: the outputs to return (default all). onnxruntime-node copies each returned
   * output into a new array, so a caller that needs few of a large graph's outputs names them.
   */
  run(
    feeds: Record<string, TensorData>,
    outputs?: readonly string[],
  ): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

const require = createRequire(import.meta.url);

/**
 * CUDA files are not bundled with onnxruntime-node (the repo skips their download); an
 * operator installs them with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`.
 */
export function providerInstalled(provider: ExecutionProvider): boolean {
  const listed = ort.listSupportedBackends().find((b) => b.name === provider);
  if (!listed) return false;
  if (listed.bundled) return true;
  const binding = join(
    dirname(require.resolve("onnxruntime-node")),
    "..",
    "bin",
    "napi-v6",
    process.platform,
    process.arch,
  );
  return existsSync(join(binding, `libonnxruntime_providers_${provider}.so`));
}

function toOrt(t: TensorData): ort.Tensor {
  return new ort.Tensor(t.type, t.data, t.dims);
}

function fromOrt(t: ort.Tensor): TensorData {
  const dims = [...t.dims];
  switch (t.type) {
    case "float32":
      return { type: "float32", dims, data: t.data as Float32Array };
    case "float16":
      return { type: "float16", dims, data: t.data as Uint16Array };
    case "int64":
      return { type: "int64", dims, data: t.data as BigInt64Array };
    case "int32":
      return { type: "int32", dims, data: t.data as Int32Array };
    case "bool":
      return { type: "bool", dims, data: t.data as Uint8Array };
    case "uint8":
      return { type: "uint8", dims, data: t.data as Uint8Array };
    default:
      throw new Error(`unsupported output tensor type ${t.type}`);
  }
}

async function createOn(path: string, provider: ExecutionProvider, options: SessionOptions) {
  return ort.InferenceSession.create(path, ortSessionOptions(provider, options));
}

/** Opens an ONNX graph on the requested provider, applying the fallback policy. */
export async function openSession(
  path: string,
  options: SessionOptions = {},
): Promise<ModelSession> {
  const wanted = options.provider ?? "cpu";
  let provider = wanted;
  let fallbackReason: string | undefined;
  let session: ort.InferenceSession;
  try {
    if (!providerInstalled(wanted)) {
      throw new Error(
        wanted === "cuda"
          ? "the CUDA execution provider is not installed (run: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)"
          : `the ${wanted} execution provider is not available in this onnxruntime-node build`,
      );
    }
    session = await createOn(path, wanted, options);
  } catch (error) {
    if (wanted === "cpu" || options.fallback !== "cpu") {
      if (wanted === "cpu") throw error;
      throw new PadtError(
        ErrorCode.PROVIDER_UNAVAILABLE,
        `Cannot run on ${wanted}: ${(error as Error).message}`,
        {
          provider: wanted,
        },
      );
    }
    provider = "cpu";
    fallbackReason = (error as Error).message;
    session = await createOn(path, "cpu", options);
  }
  return {
    provider,
    ...(fallbackReason ? { fallbackReason } : {}),
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, outputs) {
      const input: Record<string, ort.Tensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) input[name] = toOrt(tensor);
      const output = await (outputs ? session.run(input, outputs) : session.run(input));
      const result: Record<string, TensorData> = {};
      for (const [name, tensor] of Object.entries(output)) result[name] = fromOrt(tensor);
      return result;
    },
    release: () => session.release(),
  };
}
