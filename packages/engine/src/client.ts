import type { ChatTurn, GenerateOptions, GenerationEvent } from "@padt/protocol";
import type { ExecutionProvider } from "./backend/ort.js";
import type { SanitizedImage } from "./image/decode.js";
import type { PoolStats } from "./runtime/pool.js";

export interface ModelInfo {
  name: string;
  executionProvider: ExecutionProvider;
  /** Set when the requested provider could not start and the fallback policy chose CPU. */
  fallbackReason?: string;
  dtype: "fp32" | "fp16";
  /** Text vocabulary rows; visual reference tokens are numbered from here. */
  vocabSize: number;
  /** Largest image the model sees (smart_resize's max_pixels). */
  maxPixels: number;
  /** The task plugins (by name) the model was trained for: the bundle's `capabilities`. */
  supportedTasks: string[];
  /** Whether it answers plain chat (a task-less message); the Shapes model does not. */
  freeChat: boolean;
  /**
   * Whether it was trained on conversations of several turns. False (the Shapes model): each
   * answer sees only the last question (and the latest image), and says what it left out.
   */
  multiTurn: boolean;
}

/** An image ready to store, with the model's view of it. */
export interface InspectedImage extends SanitizedImage {
  /** Columns and rows of the model's 28-px cells for this image (visual reference patches). */
  gridWidth: number;
  gridHeight: number;
}

/**
 * What a server needs from the engine, and nothing else (vLLM's EngineClient idea): the
 * gateway depends on this type, so the engine can move to a worker process or another
 * machine without the gateway changing.
 */
export interface EngineClient {
  readonly info: ModelInfo;
  /** Validates an upload and returns what to store (oriented, metadata stripped) and its grid. */
  inspectImage(bytes: Uint8Array): Promise<InspectedImage>;
  /**
   * Starts a generation. Throws QUEUE_FULL at once when it cannot even wait in line; every
   * other problem (a bad image, a cancelled signal) arrives as a rejected iteration.
   */
  generate(turns: readonly ChatTurn[], options?: GenerateOptions): AsyncIterable<GenerationEvent>;
  stats(): PoolStats;
  /** Stops taking work, lets running generations finish, then releases the model. */
  close(): Promise<void>;
}
