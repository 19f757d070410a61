import { ErrorCode } from "@padt/protocol";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeImage, sanitizeImage } from "../src/image/decode.js";
import { fixtureBytes } from "./image-fixtures.js";

describe("sanitizeImage: what the gateway stores and serves back", () => {
  it("applies the EXIF orientation and strips the metadata", async () => {
    const original = fixtureBytes("exif6_320x240.jpg");
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const clean = await sanitizeImage(original);
    expect(clean).toMatchObject({ format: "jpeg", mimeType: "image/jpeg" });
    const meta = await sharp(clean.bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation ?? 1).toBe(1);
    // Upright: the stored file has the size users see, the same as the decoder reports.
    const decoded = await decodeImage(original);
    expect([meta.width, meta.height]).toEqual([decoded.width, decoded.height]);
    expect([clean.width, clean.height]).toEqual([decoded.width, decoded.height]);
  });

  it("keeps a file without metadata byte for byte", async () => {
    const original = fixtureBytes("rgb_200x150.png");
    const clean = await sanitizeImage(original);
    expect(Buffer.from(clean.bytes).equals(Buffer.from(original))).toBe(true);
    expect(clean.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses truncated files and other formats with typed errors", async () => {
    const png = fixtureBytes("rgb_200x150.png");
    await expect(sanitizeImage(png.subarray(0, png.length / 2))).rejects.toMatchObject({
      code: ErrorCode.IMAGE_DECODE_FAILED,
    });
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    );
    await expect(sanitizeImage(svg)).rejects.toMatchObject({
      code: ErrorCode.IMAGE_FORMAT_UNSUPPORTED,
    });
    await expect(sanitizeImage(png, { maxBytes: 100 })).rejects.toMatchObject({
      code: ErrorCode.IMAGE_TOO_LARGE,
    });
    await expect(sanitizeImage(png, { maxPixels: 1000 })).rejects.toMatchObject({
      code: ErrorCode.IMAGE_TOO_MANY_PIXELS,
    });
  });
});
