/**
 * Public error codes. The gateway sends them as GraphQL `extensions.code`, so they are a
 * contract with clients: add codes, never rename them. Each is documented in the README.
 */
export const PadtErrorCode = {
  /** The bytes are not a decodable image (truncated, corrupt, wrong signature). */
  IMAGE_DECODE_FAILED: "IMAGE_DECODE_FAILED",
  /** A format other than PNG, JPEG or WebP (SVG, GIF, TIFF, ...). */
  IMAGE_FORMAT_UNSUPPORTED: "IMAGE_FORMAT_UNSUPPORTED",
  /** More bytes than the configured limit. */
  IMAGE_TOO_LARGE: "IMAGE_TOO_LARGE",
  /** More pixels than the configured limit (decompression bombs end here, before decoding). */
  IMAGE_TOO_MANY_PIXELS: "IMAGE_TOO_MANY_PIXELS",
  /** An image the model cannot take: aspect ratio over 200, or a side under 28 px after resizing. */
  IMAGE_SHAPE_UNSUPPORTED: "IMAGE_SHAPE_UNSUPPORTED",
  /** A prompt with no text and no image. */
  PROMPT_EMPTY: "PROMPT_EMPTY",
  /** A prompt longer than the model's context allows. */
  PROMPT_TOO_LONG: "PROMPT_TOO_LONG",
  /** Prompt text containing a special token's string (e.g. `<|im_end|>`), which would forge chat structure or images. */
  PROMPT_SPECIAL_TOKEN: "PROMPT_SPECIAL_TOKEN",
  /** A model bundle whose manifest is missing, malformed or of an unknown format version. */
  BUNDLE_INVALID: "BUNDLE_INVALID",
  /** A file named by the manifest is absent. */
  BUNDLE_FILE_MISSING: "BUNDLE_FILE_MISSING",
  /** A bundle file whose size or sha256 differs from the manifest (truncated or replaced). */
  BUNDLE_CHECKSUM_MISMATCH: "BUNDLE_CHECKSUM_MISMATCH",
  /** The requested execution provider (cuda, webgpu) is not installed or failed to start. */
  PROVIDER_UNAVAILABLE: "PROVIDER_UNAVAILABLE",
  /** The generation queue is full; retry later. */
  QUEUE_FULL: "QUEUE_FULL",
  /** The generation was cancelled by its AbortSignal. */
  GENERATION_CANCELLED: "GENERATION_CANCELLED",
  /** A visual reference that points outside its image, or at an unknown image or object. */
  VISUAL_REF_INVALID: "VISUAL_REF_INVALID",
  /** No task plugin of that name is registered. */
  TASK_UNKNOWN: "TASK_UNKNOWN",
  /** The task input failed the plugin's validation. */
  TASK_INPUT_INVALID: "TASK_INPUT_INVALID",
} as const;
export type PadtErrorCode = (typeof PadtErrorCode)[keyof typeof PadtErrorCode];

/** The one error type the engine and plugins throw for bad input or state. */
export class PadtError extends Error {
  override readonly name = "PadtError";
  constructor(
    readonly code: PadtErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPadtError(error: unknown, code?: PadtErrorCode): error is PadtError {
  return error instanceof PadtError && (code === undefined || error.code === code);
}
