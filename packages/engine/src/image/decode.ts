/**
 * The only module that imports sharp (STYLE.md 4). Turns untrusted encoded bytes into 8-bit
 * sRGB RGB pixels, refusing what it should before any pixel is allocated.
 */
import { createHash } from "node:crypto";
import { ErrorCode, PadtError } from "@padt/protocol";
import sharp from "sharp";
import { jpegComponentCount, readImageHeader } from "./header.js";
import { cmykToRgb, flattenOnWhite } from "./pixels.js";
import {
  DEFAULT_IMAGE_LIMITS,
  type DecodedImage,
  type ImageFormat,
  type ImageLimits,
} from "./types.js";

// Defence in depth behind the magic-byte check: libvips refuses to run any loader but these
// three, whatever the bytes claim. This is process-wide, which is fine because no other
// module uses sharp.
sharp.block({ operation: ["VipsForeignLoad"] });
sharp.unblock({ operation: ["VipsForeignLoadPng", "VipsForeignLoadJpeg", "VipsForeignLoadWebp"] });

export { readImageHeader } from "./header.js";

/**
 * Decodes a PNG, JPEG or WebP image to RGB.
 * - Limits: bytes first, then width * height from the header (a 14000 x 14000 PNG is refused
 *   here, before decoding); the pixel cap is also sharp's `limitInputPixels`.
 * - EXIF orientation is applied, and width/height are reported after it. The Python
 *   reference (PIL.Image.open + the Qwen processor) ignores orientation and would see phone
 *   photos sideways; boxes are reported on the image as users see it, so we rotate.
 * - Alpha is flattened onto white (see flattenOnWhite); CMYK is converted with Pillow's
 *   formula; grey is replicated; 16-bit becomes 8-bit; embedded ICC profiles are ignored,
 *   as Pillow ignores them, so pixel values match the reference.
 * - Animated WebP: the first frame only.
 */
export async function decodeImage(
  bytes: Uint8Array,
  limits: ImageLimits = {},
): Promise<DecodedImage> {
  const { header, maxPixels } = checkLimits(bytes, limits);
  const pixels = header.storedWidth * header.storedHeight;
  const rgb = await decodePixels(bytes, maxPixels, mayBeCmyk(bytes, header.format));
  if (rgb.width * rgb.height !== pixels) {
    // The header lied (or we misread it): refuse rather than trust either size. Only the
    // pixel count is compared, so that a disagreement on orientation (several EXIF blocks)
    // keeps the decoder's reading.
    throw new PadtError(
      ErrorCode.IMAGE_DECODE_FAILED,
      `decoded size ${rgb.width}x${rgb.height} differs from the header's ${header.width}x${header.height}`,
    );
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { ...rgb, format: header.format, sha256 };
}

/** Byte and pixel limits, from the header alone: nothing is decoded before they pass. */
function checkLimits(bytes: Uint8Array, limits: ImageLimits) {
  const maxBytes = limits.maxBytes ?? DEFAULT_IMAGE_LIMITS.maxBytes;
  const maxPixels = limits.maxPixels ?? DEFAULT_IMAGE_LIMITS.maxPixels;
  if (bytes.length > maxBytes) {
    throw new PadtError(
      ErrorCode.IMAGE_TOO_LARGE,
      `image is ${bytes.length} bytes; the limit is ${maxBytes}`,
      { bytes: bytes.length, maxBytes },
    );
  }
  const header = readImageHeader(bytes);
  const pixels = header.storedWidth * header.storedHeight;
  if (pixels > maxPixels) {
    throw new PadtError(
      ErrorCode.IMAGE_TOO_MANY_PIXELS,
      `image is ${header.width}x${header.height} (${pixels} pixels); the limit is ${maxPixels}`,
      { width: header.width, height: header.height, maxPixels },
    );
  }
  return { header, maxPixels };
}

const MIME_TYPES = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" } as const;

/** An image as it is stored and served back: oriented upright, without metadata. */
export interface SanitizedImage {
  readonly bytes: Uint8Array;
  readonly format: ImageFormat;
  readonly mimeType: (typeof MIME_TYPES)[ImageFormat];
  readonly width: number;
  readonly height: number;
  /** Hex sha256 of `bytes`: the stored image's identity. */
  readonly sha256: string;
}

/**
 * Checks an upload (format, limits, decodability) and returns the bytes to store: the EXIF
 * orientation applied and all metadata (EXIF with its GPS position, XMP, IPTC, ICC) removed.
 * Files that carry none are kept byte for byte, so a clean image is never re-compressed.
 */
export async function sanitizeImage(
  bytes: Uint8Array,
  limits: ImageLimits = {},
): Promise<SanitizedImage> {
  const { header, maxPixels } = checkLimits(bytes, limits);
  const open = () =>
    sharp(bytes, { limitInputPixels: maxPixels, failOn: "error", autoOrient: true, pages: 1 });
  let out: Uint8Array = bytes;
  try {
    const meta = await open().metadata();
    const carriesMetadata =
      Boolean(meta.exif || meta.xmp || meta.iptc || meta.icc) || header.orientation !== 1;
    // Decode fully even when the bytes are kept: a truncated file must fail here, not later.
    const encoder = open();
    const reencoded = await (header.format === "png"
      ? encoder.png()
      : header.format === "jpeg"
        ? encoder.jpeg({ quality: 95, chromaSubsampling: "4:4:4" })
        : encoder.webp({ quality: 95 })
    ).toBuffer();
    if (carriesMetadata)
      out = new Uint8Array(reencoded.buffer, reencoded.byteOffset, reencoded.length);
  } catch (error) {
    throw decodeError(error, maxPixels);
  }
  return {
    bytes: out,
    format: header.format,
    mimeType: MIME_TYPES[header.format],
    width: header.width,
    height: header.height,
    sha256: createHash("sha256").update(out).digest("hex"),
  };
}

function decodeError(error: unknown, maxPixels: number): PadtError {
  if (error instanceof PadtError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new PadtError(
      ErrorCode.IMAGE_TOO_MANY_PIXELS,
      `image exceeds ${maxPixels} pixels`,
      { maxPixels },
      { cause: error },
    );
  }
  return new PadtError(
    ErrorCode.IMAGE_DECODE_FAILED,
    `image could not be decoded: ${message}`,
    {},
    { cause: error },
  );
}

/**
 * Only a JPEG with four components decodes as CMYK in libvips; anything else skips the
 * metadata pass that asks (a libvips pipeline of its own, a tenth of a small image's decode).
 */
function mayBeCmyk(bytes: Uint8Array, format: ImageFormat): boolean {
  if (format !== "jpeg") return false;
  const components = jpegComponentCount(bytes);
  return components === null || components === 4;
}

async function decodePixels(bytes: Uint8Array, maxPixels: number, mayBeCmyk: boolean) {
  const open = () =>
    sharp(bytes, {
      limitInputPixels: maxPixels,
      // Abort on truncated or corrupt data, tolerate mere warnings (common in camera JPEGs).
      failOn: "error",
      autoOrient: true,
      ignoreIcc: true,
      pages: 1,
    });
  try {
    if (mayBeCmyk && (await open().metadata()).space === "cmyk") {
      // Ask for the CMYK bytes themselves and convert them the way Pillow does.
      const { data, info } = await open()
        .pipelineColourspace("cmyk")
        .toColourspace("cmyk")
        .raw({ depth: "uchar" })
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 4) throw new Error(`CMYK image decoded to ${info.channels} channels`);
      return {
        width: info.width,
        height: info.height,
        data: cmykToRgb(data, info.width * info.height),
      };
    }
    const { data, info } = await open()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    const count = info.width * info.height;
    if (info.channels === 4)
      return { width: info.width, height: info.height, data: flattenOnWhite(data, count) };
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (error) {
    throw decodeError(error, maxPixels);
  }
}
