import { resolve } from "node:path";
import { ErrorCode, type GenerationEvent, PadtError } from "@padt/protocol";
import { type BundleVerification, loadManifest } from "../bundle/load.js";
import type { PadtManifest } from "../bundle/manifest.js";
import type { EngineClient, InspectedImage, ModelInfo } from "../client.js";
import type { ImageLimits } from "../image/types.js";
import type { PoolStats } from "../runtime/pool.js";
import { describeModel, inspectForModel } from "./model_view.js";

export interface InspectorOptions {
  /** Directory of a PaDT bundle; only padt.json is read (and the files' sizes checked). */
  bundle: string;
  /** Checks at load; default "size": a gateway does not need to hash graphs it never runs. */
  verify?: BundleVerification;
  imageLimits?: ImageLimits;
  /** As EngineOptions.longSide: must match the workers', or grids differ. */
  longSide?: number | null;
}

/**
 * The model's description and image grids without the model: what a gateway replica needs
 * (uploads are checked and given the grid the workers will use), with no graph loaded and
 * no worker thread started. generate() is refused: answers are made by `padt worker`.
 */
export class ModelInspector implements EngineClient {
  private constructor(
    readonly manifest: PadtManifest,
    readonly info: ModelInfo,
    private readonly options: InspectorOptions,
  ) {}

  static async load(options: InspectorOptions): Promise<ModelInspector> {
    const manifest = await loadManifest(resolve(options.bundle), options.verify ?? "size");
    // Runs nothing itself; the workers report their own provider.
    return new ModelInspector(manifest, describeModel(manifest, "cpu"), options);
  }

  inspectImage(bytes: Uint8Array): Promise<InspectedImage> {
    return inspectForModel(bytes, this.manifest, this.options);
  }

  generate(): AsyncIterable<GenerationEvent> {
    throw new PadtError(
      ErrorCode.INTERNAL_SERVER_ERROR,
      "this process inspects the model only; generations run on `padt worker`",
    );
  }

  stats(): PoolStats {
    return { workers: 0, slots: 0, busy: 0, queued: 0, maxQueue: 0 };
  }

  async close(): Promise<void> {}
}
