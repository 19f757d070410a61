import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A real RGB PNG of `width` x `height` (a colour gradient, seeded so images differ), written
 * with zlib so the tests need no image library. `idat: false` writes only the header chunk:
 * a file that claims its size but has no pixels (a decompression-bomb header, or corrupt).
 */
export function png(
  width: number,
  height: number,
  seed = 0,
  options: { idat?: boolean } = {},
): Uint8Array {
  if (!(options.idat ?? true)) return rgbPng(width, height, null);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 7 + seed) & 0xff;
      raw[row + 2 + x * 3] = (y * 5 + seed * 3) & 0xff;
      raw[row + 3 + x * 3] = (seed * 11) & 0xff;
    }
  }
  return rgbPng(width, height, raw);
}

/**
 * An 8-bit RGB PNG from its filtered scanlines (`raw`: one filter byte, then RGB, per row);
 * `raw` null writes no IDAT chunk.
 */
export function rgbPng(width: number, height: number, raw: Uint8Array | null): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
  ];
  if (raw) parts.push(chunk("IDAT", deflateSync(raw)));
  parts.push(chunk("IEND", new Uint8Array()));
  return new Uint8Array(Buffer.concat(parts));
}

export const SVG = new TextEncoder().encode(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script></svg>',
);

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
