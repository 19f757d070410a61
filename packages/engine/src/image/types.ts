/** Image types shared by the decoder, the resampler and the model processors (no sharp here). */

export type ImageFormat = "png" | "jpeg" | "webp";

/** An image ready for preprocessing: 8-bit sRGB, 3 channels, interleaved, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes: R, G, B of each pixel, rows top to bottom. */
  readonly data: Uint8Array;
}

export interface DecodedImage extends RgbImage {
  readonly format: ImageFormat;
  /** Hex sha256 of the encoded bytes as received: the image's identity (storage, caches). */
  readonly sha256: string;
}

/** What the file header says, read without decoding. */
export interface ImageHeader {
  readonly format: ImageFormat;
  /** Size as displayed, i.e. after the EXIF orientation (orientations 5 to 8 swap the sides). */
  readonly width: number;
  readonly height: number;
  /** EXIF orientation 1 to 8; 1 when absent. */
  readonly orientation: number;
  /** Size as stored, before orientation: what the decoder allocates. */
  readonly storedWidth: number;
  readonly storedHeight: number;
}

/** Limits applied to untrusted images before any pixel is decoded. */
export interface ImageLimits {
  /** Largest encoded size accepted, in bytes. */
  readonly maxBytes?: number;
  /** Largest width * height accepted, checked from the header and enforced again by the decoder. */
  readonly maxPixels?: number;
}

export const DEFAULT_IMAGE_LIMITS = {
  maxBytes: 32 * 1024 * 1024,
  // 40 MP covers any phone camera; the model itself never sees more than smart_resize's cap,
  // and a decoded 40 MP RGBA image is 160 MB, the most one request may make us allocate.
  maxPixels: 40_000_000,
} as const satisfies Required<ImageLimits>;
