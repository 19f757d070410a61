/**
 * Format sniffing and header parsing for PNG, JPEG and WebP, in plain TypeScript, so that
 * untrusted bytes are classified and their pixel count known before a decoder runs.
 */
import { ErrorCode, PadtError } from "@padt/protocol";
import { exifOrientation } from "./exif.js";
import type { ImageFormat, ImageHeader } from "./types.js";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Formats we recognise only to refuse them by name (SVG can carry scripts and entity bombs). */
const REFUSED: ReadonlyArray<readonly [string, (b: Uint8Array) => boolean]> = [
  ["gif", (b) => ascii(b, 0, 4) === "GIF8"],
  ["tiff", (b) => ascii(b, 0, 4) === "II*\0" || ascii(b, 0, 4) === "MM\0*"],
  ["bmp", (b) => ascii(b, 0, 2) === "BM"],
  ["heif/avif", (b) => ascii(b, 4, 8) === "ftyp"],
  ["jpeg-xl", (b) => (b[0] === 0xff && b[1] === 0x0a) || ascii(b, 4, 8) === "JXL "],
  ["ico", (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0],
  ["pdf", (b) => ascii(b, 0, 5) === "%PDF-"],
  ["svg", (b) => /^(\uFEFF)?\s*<(\?xml|svg|!--|!DOCTYPE)/i.test(ascii(b, 0, 256))],
];

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));
}

function failed(message: string): PadtError {
  return new PadtError(ErrorCode.IMAGE_DECODE_FAILED, message);
}

/** The format from the magic bytes; refuses everything but PNG, JPEG and WebP. */
export function sniffFormat(bytes: Uint8Array): ImageFormat {
  if (PNG_SIGNATURE.every((v, i) => bytes[i] === v)) return "png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") return "webp";
  const refused = REFUSED.find(([, test]) => test(bytes));
  if (refused) {
    throw new PadtError(
      ErrorCode.IMAGE_FORMAT_UNSUPPORTED,
      `${refused[0]} images are not accepted; send PNG, JPEG or WebP`,
      { format: refused[0] },
    );
  }
  throw failed("not an image: the bytes match no known image signature");
}

/** Format, size and EXIF orientation from the header alone; throws PadtError on bad input. */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const format = sniffFormat(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let stored: { width: number; height: number; orientation: number };
  try {
    stored =
      format === "png"
        ? pngHeader(bytes, view)
        : format === "jpeg"
          ? jpegHeader(bytes, view)
          : webpHeader(bytes, view);
  } catch (error) {
    if (error instanceof PadtError) throw error;
    // DataView reads past the end of a truncated header throw RangeError.
    throw new PadtError(
      ErrorCode.IMAGE_DECODE_FAILED,
      `truncated ${format} header`,
      {},
      { cause: error },
    );
  }
  if (stored.width <= 0 || stored.height <= 0)
    throw failed(`${format} header gives an empty image`);
  const swap = stored.orientation >= 5;
  return {
    format,
    width: swap ? stored.height : stored.width,
    height: swap ? stored.width : stored.height,
    orientation: stored.orientation,
    storedWidth: stored.width,
    storedHeight: stored.height,
  };
}

function pngHeader(bytes: Uint8Array, view: DataView) {
  if (ascii(bytes, 12, 16) !== "IHDR") throw failed("PNG without IHDR chunk");
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  // An eXIf chunk, when present, comes before the image data.
  let orientation = 1;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = ascii(bytes, at + 4, at + 8);
    if (type === "IDAT" || type === "IEND") break;
    if (type === "eXIf") {
      orientation = exifOrientation(bytes.subarray(at + 8, at + 8 + length));
      break;
    }
    at += 12 + length;
  }
  return { width, height, orientation };
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** The offset of the JPEG's frame header (SOFn marker) and the EXIF orientation before it. */
function jpegFrame(bytes: Uint8Array, view: DataView): { at: number; orientation: number } {
  let orientation = 1;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw failed("corrupt JPEG: marker expected");
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI or scan data before any frame
    const length = view.getUint16(at + 2);
    if (isStartOfFrame(marker)) return { at, orientation };
    if (marker === 0xe1 && ascii(bytes, at + 4, at + 10) === "Exif\0\0" && orientation === 1) {
      orientation = exifOrientation(bytes.subarray(at + 10, at + 2 + length));
    }
    at += 2 + length;
  }
  throw failed("truncated or corrupt JPEG: no frame header");
}

function jpegHeader(bytes: Uint8Array, view: DataView) {
  const { at, orientation } = jpegFrame(bytes, view);
  const height = view.getUint16(at + 5);
  const width = view.getUint16(at + 7);
  if (height === 0) throw failed("JPEG with its height in a DNL marker is not supported");
  return { width, height, orientation };
}

/**
 * The number of colour components in a JPEG's frame header (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK),
 * or null when the header cannot say: lets the decoder pick its path without a metadata pass.
 */
export function jpegComponentCount(bytes: Uint8Array): number | null {
  try {
    const { at } = jpegFrame(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return at + 9 < bytes.length ? bytes[at + 9]! : null;
  } catch {
    return null;
  }
}

function webpHeader(bytes: Uint8Array, view: DataView) {
  const chunk = ascii(bytes, 12, 16);
  const data = 20;
  if (chunk === "VP8 ") {
    if (bytes[data + 3] !== 0x9d || bytes[data + 4] !== 0x01 || bytes[data + 5] !== 0x2a) {
      throw failed("corrupt WebP: bad VP8 start code");
    }
    const width = view.getUint16(data + 6, true) & 0x3fff;
    const height = view.getUint16(data + 8, true) & 0x3fff;
    return { width, height, orientation: 1 };
  }
  if (chunk === "VP8L") {
    if (bytes[data] !== 0x2f) throw failed("corrupt WebP: bad VP8L signature");
    const bits = view.getUint32(data + 1, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, orientation: 1 };
  }
  if (chunk === "VP8X") {
    const width = 1 + (view.getUint32(data + 4, true) & 0xffffff);
    const height = 1 + (view.getUint32(data + 7, true) & 0xffffff);
    let orientation = 1;
    // Extended files may carry an EXIF chunk after the image data: walk the chunk list.
    for (let at = 12; at + 8 <= bytes.length; ) {
      const size = view.getUint32(at + 4, true);
      if (ascii(bytes, at, at + 4) === "EXIF") {
        const exif = bytes.subarray(at + 8, at + 8 + size);
        // Some writers keep the JPEG-style "Exif\0\0" prefix.
        orientation = exifOrientation(ascii(exif, 0, 6) === "Exif\0\0" ? exif.subarray(6) : exif);
        break;
      }
      at += 8 + size + (size & 1);
    }
    return { width, height, orientation };
  }
  throw failed(`corrupt WebP: unknown first chunk ${JSON.stringify(chunk)}`);
}
