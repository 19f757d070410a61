import { type EngineClient, readImageHeader } from "@padt/engine";
import { ErrorCode, PadtError } from "@padt/protocol";
import type { Limits } from "./config.js";
import type { Database } from "./db/database.js";
import {
  getImageWithData,
  type ImageGrid,
  type ImageMeta,
  putImage,
  setImageGrid,
} from "./db/repos/images.js";

const ACCEPTED_MIME = new Set(["image/png", "image/jpeg", "image/webp"]);
/** One merged patch of the vision tower (14 px x 2): a smaller side holds no patch of its own. */
const MIN_SIDE = 28;

/**
 * Uploads (limits, then the engine's inspection, which orients and strips metadata) and the
 * model's patch grid of stored images: the engine's answer, kept with the image row, so that
 * it survives a restart and the gateway does no model arithmetic of its own.
 */
export class ImageService {
  constructor(
    private readonly engine: EngineClient,
    private readonly limits: Pick<Limits, "imageBytes" | "imagePixels">,
  ) {}

  /**
   * Checks, sanitizes and stores an image: bytes and pixel limits first (from the header,
   * nothing decoded), then the engine's inspection (format, decodability, orientation,
   * metadata removed); what is stored and served is the engine's sanitized bytes.
   */
  async upload(
    db: Database,
    ownerId: string,
    bytes: Uint8Array,
    declaredMime?: string | null,
  ): Promise<ImageMeta> {
    if (declaredMime && !ACCEPTED_MIME.has(declaredMime.toLowerCase())) {
      throw new PadtError(
        ErrorCode.IMAGE_FORMAT_UNSUPPORTED,
        `${declaredMime} is not accepted: send PNG, JPEG or WebP`,
      );
    }
    this.checkSize(bytes.byteLength);
    const header = readImageHeader(bytes);
    const pixels = header.storedWidth * header.storedHeight;
    if (pixels > this.limits.imagePixels) {
      throw new PadtError(
        ErrorCode.IMAGE_TOO_MANY_PIXELS,
        `image is ${header.width}x${header.height} (${pixels} pixels); the limit is ${this.limits.imagePixels}`,
        { width: header.width, height: header.height, maxPixels: this.limits.imagePixels },
      );
    }
    if (Math.min(header.width, header.height) < MIN_SIDE) {
      throw new PadtError(
        ErrorCode.IMAGE_SHAPE_UNSUPPORTED,
        `image is ${header.width}x${header.height}: both sides must be at least ${MIN_SIDE} px`,
        { width: header.width, height: header.height, minSide: MIN_SIDE },
      );
    }
    const inspected = await this.engine.inspectImage(bytes);
    return putImage(db, ownerId, {
      bytes: inspected.bytes,
      width: inspected.width,
      height: inspected.height,
      mimeType: inspected.mimeType,
      grid: { gridWidth: inspected.gridWidth, gridHeight: inspected.gridHeight },
    });
  }

  /** Refuses an upload by its size alone (also used before decoding base64). */
  checkSize(byteLength: number): void {
    if (byteLength > this.limits.imageBytes) {
      throw new PadtError(
        ErrorCode.IMAGE_TOO_LARGE,
        `image is ${byteLength} bytes; the limit is ${this.limits.imageBytes}`,
        { bytes: byteLength, maxBytes: this.limits.imageBytes },
      );
    }
  }

  /**
   * The model's grid of a stored image, as the engine answered at upload. A row stored before
   * grids were recorded gets the engine's answer for its stored bytes now, kept for next time.
   */
  async grid(
    db: Database,
    image: Pick<ImageMeta, "id" | "ownerId" | "gridWidth" | "gridHeight">,
  ): Promise<ImageGrid> {
    if (image.gridWidth !== null && image.gridHeight !== null)
      return { gridWidth: image.gridWidth, gridHeight: image.gridHeight };
    const stored = await getImageWithData(db, image.ownerId, image.id);
    if (!stored?.data) throw new Error(`image ${image.id} has no grid and no bytes to ask for one`);
    const inspected = await this.engine.inspectImage(stored.data);
    const row = await setImageGrid(db, image, inspected);
    return { gridWidth: row.gridWidth!, gridHeight: row.gridHeight! };
  }
}

/** Base64 (optionally a data: URL) to bytes, refusing oversize input before decoding it. */
export function decodeBase64Image(value: string, checkSize: (bytes: number) => void): Uint8Array {
  const body = value.replace(/^data:[^,]*;base64,/, "").replace(/\s+/g, "");
  const padding = body.endsWith("==") ? 2 : body.endsWith("=") ? 1 : 0;
  checkSize(Math.floor((body.length * 3) / 4) - padding);
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(body) || body.length % 4 === 1) {
    throw new PadtError(ErrorCode.IMAGE_DECODE_FAILED, "base64 is malformed");
  }
  return new Uint8Array(Buffer.from(body, "base64"));
}
