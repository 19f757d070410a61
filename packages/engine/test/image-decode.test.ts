import { ErrorCode, isPadtError } from "@padt/protocol";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeImage, readImageHeader } from "../src/image/decode.js";
import { jpegComponentCount } from "../src/image/header.js";
import { fixtureBytes, fixtures, sha256 } from "./image-fixtures.js";
import { encodePng, exifWithOrientation } from "./image-png.js";

async function decodeError(bytes: Uint8Array, limits = {}): Promise<unknown> {
  try {
    await decodeImage(bytes, limits);
  } catch (error) {
    return error;
  }
  throw new Error("decodeImage accepted the input");
}

async function expectCode(bytes: Uint8Array, code: ErrorCode, limits = {}) {
  const error = await decodeError(bytes, limits);
  expect(isPadtError(error, code), String(error)).toBe(true);
  return error;
}

function pixel(image: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return Array.from(image.data.subarray(i, i + 3));
}

describe("decodeImage gives Pillow's pixels", () => {
  // Each fixture's pixels as PIL sees them after the engine's declared conversions (EXIF
  // applied, alpha on white, Pillow's CMYK and grey formulas): byte-identical.
  for (const image of fixtures.images) {
    it(image.file, async () => {
      const decoded = await decodeImage(fixtureBytes(image.file));
      expect([decoded.width, decoded.height]).toEqual([image.width, image.height]);
      expect(decoded.data.length).toBe(image.width * image.height * 3);
      expect(sha256(decoded.data)).toBe(image.decoded.sha256);
      expect(decoded.sha256).toBe(sha256(fixtureBytes(image.file)));
      expect(decoded.format).toBe(readImageHeader(fixtureBytes(image.file)).format);
    });
  }
});

describe("decodeImage conversions", () => {
  it("applies EXIF orientation 6 and reports the rotated size", async () => {
    const bytes = fixtureBytes("exif6_320x240.jpg");
    expect(readImageHeader(bytes)).toMatchObject({
      format: "jpeg",
      orientation: 6,
      width: 240,
      height: 320,
    });
    const decoded = await decodeImage(bytes);
    expect([decoded.width, decoded.height]).toEqual([240, 320]);
  });

  it("reads orientation from a PNG eXIf chunk", async () => {
    const bytes = encodePng({
      width: 3,
      height: 2,
      bitDepth: 8,
      colourType: 2,
      row: (y) => new Uint8Array(9).fill(y === 0 ? 200 : 10),
      extra: [{ type: "eXIf", data: exifWithOrientation(6) }],
    });
    expect(readImageHeader(bytes)).toMatchObject({ orientation: 6, width: 2, height: 3 });
    const decoded = await decodeImage(bytes);
    expect([decoded.width, decoded.height]).toEqual([2, 3]);
    // Rotated clockwise: the top row (200) becomes the right column.
    expect(pixel(decoded, 1, 0)).toEqual([200, 200, 200]);
    expect(pixel(decoded, 0, 0)).toEqual([10, 10, 10]);
  });

  it("flattens alpha onto white with Pillow's rounding", async () => {
    const alphas = [0, 1, 127, 128, 254, 255];
    const bytes = encodePng({
      width: alphas.length,
      height: 1,
      bitDepth: 8,
      colourType: 6,
      row: () => Uint8Array.from(alphas.flatMap((a) => [0, 100, 250, a])),
    });
    const decoded = await decodeImage(bytes);
    // PIL: white.paste(rgba, mask=alpha) -> (255 * (255 - a) + c * a) / 255, rounded.
    const want = alphas.map((a) =>
      [0, 100, 250].map((c) => Math.round((255 * (255 - a) + c * a) / 255)),
    );
    expect(alphas.map((_, x) => pixel(decoded, x, 0))).toEqual(want);
  });

  it("replicates grey and keeps the high byte of 16-bit samples", async () => {
    const grey16 = encodePng({
      width: 2,
      height: 1,
      bitDepth: 16,
      colourType: 0,
      row: () => Uint8Array.of(0x12, 0x34, 0xfe, 0xff),
    });
    const decoded = await decodeImage(grey16);
    expect(pixel(decoded, 0, 0)).toEqual([0x12, 0x12, 0x12]);
    expect(pixel(decoded, 1, 0)).toEqual([0xfe, 0xfe, 0xfe]);
    const rgb16 = encodePng({
      width: 1,
      height: 1,
      bitDepth: 16,
      colourType: 2,
      row: () => Uint8Array.of(0x80, 0x7f, 0x00, 0xff, 0xff, 0x00),
    });
    expect(pixel(await decodeImage(rgb16), 0, 0)).toEqual([0x80, 0x00, 0xff]);
  });

  it("reads only the first frame of an animated WebP", async () => {
    const frames = new Uint8Array(8 * 16 * 3);
    for (let i = 0; i < frames.length; i += 3)
      frames.set(i < frames.length / 2 ? [255, 0, 0] : [0, 0, 255], i);
    const bytes = await sharp(frames, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } })
      .webp({ lossless: true })
      .toBuffer();
    expect(readImageHeader(bytes)).toMatchObject({ format: "webp", width: 8, height: 8 });
    const decoded = await decodeImage(bytes);
    expect([decoded.width, decoded.height]).toEqual([8, 8]);
    expect(pixel(decoded, 7, 7)).toEqual([255, 0, 0]);
  });
});

describe("decodeImage refuses bad input", () => {
  it("refuses SVG, GIF, TIFF, AVIF and BMP by name", async () => {
    const svg = new TextEncoder().encode(
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    );
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .gif()
      .toBuffer();
    const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .tiff()
      .toBuffer();
    const avif = Buffer.from("\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", "latin1");
    const bmp = Buffer.from("BM\x3a\0\0\0\0\0\0\0\x36\0\0\0", "latin1");
    for (const bytes of [
      svg,
      new TextEncoder().encode("<svg onload='x()'/>"),
      gif,
      tiff,
      avif,
      bmp,
    ]) {
      await expectCode(bytes, ErrorCode.IMAGE_FORMAT_UNSUPPORTED);
    }
  });

  it("leaves libvips unable to load other formats, even if the sniffing were bypassed", async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .gif()
      .toBuffer();
    await expect(sharp(gif).raw().toBuffer()).rejects.toThrow();
    await expect(sharp(fixtureBytes("rgb_37x53.png")).raw().toBuffer()).resolves.toBeDefined();
  });

  it("refuses bytes that are no image", async () => {
    await expectCode(new TextEncoder().encode("hello, world"), ErrorCode.IMAGE_DECODE_FAILED);
    await expectCode(new Uint8Array(0), ErrorCode.IMAGE_DECODE_FAILED);
  });

  it("refuses truncated PNG, JPEG and WebP with the cause", async () => {
    for (const file of ["rgb_200x150.png", "rgb_448x336.jpg", "rgb_500x333.webp"]) {
      const bytes = fixtureBytes(file);
      for (const keep of [0.6, 20 / bytes.length]) {
        const error = await expectCode(
          bytes.subarray(0, Math.floor(bytes.length * keep)),
          ErrorCode.IMAGE_DECODE_FAILED,
        );
        expect((error as Error).message.length).toBeGreaterThan(10);
      }
    }
  });

  it("refuses corrupt image data", async () => {
    const bytes = fixtureBytes("rgb_200x150.png").slice();
    bytes.fill(0x55, 200, 400); // inside the compressed IDAT stream
    const error = await expectCode(bytes, ErrorCode.IMAGE_DECODE_FAILED);
    expect((error as Error).cause).toBeDefined();
  });

  it("refuses more bytes than the limit", async () => {
    await expectCode(fixtureBytes("rgb_200x150.png"), ErrorCode.IMAGE_TOO_LARGE, {
      maxBytes: 1000,
    });
  });

  it("refuses a flat 14000x14000 PNG from its header, without decoding it", async () => {
    // 1-bit grey keeps the test's own deflate cheap; decoded it would be 196 M pixels.
    const bomb = encodePng({
      width: 14000,
      height: 14000,
      bitDepth: 1,
      colourType: 0,
      row: () => new Uint8Array(1750),
    });
    expect(bomb.length).toBeLessThan(200_000);
    expect(readImageHeader(bomb)).toMatchObject({ format: "png", width: 14000, height: 14000 });
    const rss = process.memoryUsage().rss;
    const start = performance.now();
    await expectCode(bomb, ErrorCode.IMAGE_TOO_MANY_PIXELS);
    expect(performance.now() - start).toBeLessThan(50);
    expect(process.memoryUsage().rss - rss).toBeLessThan(50 * 1024 * 1024);
  });

  it("applies a configured pixel cap", async () => {
    await expectCode(fixtureBytes("rgb_200x150.png"), ErrorCode.IMAGE_TOO_MANY_PIXELS, {
      maxPixels: 29_999,
    });
    await expect(
      decodeImage(fixtureBytes("rgb_200x150.png"), { maxPixels: 30_000 }),
    ).resolves.toBeDefined();
  });
});

describe("jpegComponentCount", () => {
  it("reads the frame header's component count, and null where it cannot", () => {
    expect(jpegComponentCount(fixtureBytes("cmyk_200x160.jpg"))).toBe(4);
    expect(jpegComponentCount(fixtureBytes("rgb_448x336.jpg"))).toBe(3);
    // After an EXIF block, too.
    expect(jpegComponentCount(fixtureBytes("exif6_320x240.jpg"))).toBe(3);
    expect(jpegComponentCount(fixtureBytes("rgb_200x150.png"))).toBeNull();
    expect(jpegComponentCount(fixtureBytes("rgb_448x336.jpg").subarray(0, 40))).toBeNull();
  });
});
