/**
 * The engine against the exporter's goldens (tests/fixtures/<bundle>.golden.json): what the
 * PyTorch-checked onnxruntime pipeline in tools/ produced for fixed images and prompts, for
 * the random-weight test bundle and for the shipped Shapes model (models/padt-tiny-shapes,
 * whose goldens are Shapes test images with real answers). Identical greedy ids, boxes within
 * 1e-4 of the image size, mask IoU >= 0.999.
 */
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadManifest } from "../src/bundle/index.js";
import { PadtEngine } from "../src/engine/index.js";
import { decodeImage } from "../src/image/decode.js";
import { preprocessImage } from "../src/models/padt/image_processing.js";
import { ropeIndex } from "../src/models/padt/positions.js";
import { windowLayout } from "../src/models/padt/vision_grid.js";
import { ChatTemplate, encodeChatPrompt } from "../src/text/chat_template.js";
import { TextTokenizer } from "../src/text/tokenizer.js";
import {
  expectGoldenAnswer,
  fixtures,
  type GoldenCase,
  imagesOf,
  loadGolden,
  models,
  optionsOf,
  turnsOf,
} from "./golden-cases.js";

const BUNDLES = [
  { name: "padt-tiny-random", bundle: `${fixtures}padt-tiny-random` },
  { name: "padt-tiny-shapes", bundle: `${models}padt-tiny-shapes` },
];

/** A copy of the bundle whose manifest declares `rule` (the graphs are unchanged). */
function bundleWithRule(bundle: string, rule: string, dir: string): string {
  const copy = join(dir, rule);
  cpSync(bundle, copy, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(copy, "padt.json"), "utf8"));
  writeFileSync(join(copy, "padt.json"), JSON.stringify({ ...manifest, first_vrt_features: rule }));
  return copy;
}
describe.each(BUNDLES)("goldens of $name", ({ name, bundle }) => {
  const golden = loadGolden(name);

  const engines = new Map<string, PadtEngine>();
  const keyOf = (c: GoldenCase) => `${c.long_side}/${c.first_vrt_features ?? ""}`;
  const copies = mkdtempSync(join(tmpdir(), "padt-parity-"));
  beforeAll(async () => {
    for (const c of golden.cases) {
      if (engines.has(keyOf(c))) continue;
      const dir = c.first_vrt_features
        ? bundleWithRule(bundle, c.first_vrt_features, copies)
        : bundle;
      engines.set(
        keyOf(c),
        await PadtEngine.load({ bundle: dir, threads: 1, longSide: c.long_side }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all([...engines.values()].map((e) => e.close()));
    rmSync(copies, { recursive: true, force: true });
  });

  describe.each(golden.cases.map((c) => [c.name, c] as const))(
    "parity with the goldens: %s",
    (_, c) => {
      it("preprocesses, tokenizes and positions the prompt identically", async () => {
        const manifest = await loadManifest(bundle, "size");
        const tokenizer = await TextTokenizer.load(bundle);
        const template = new ChatTemplate(readFileSync(`${bundle}/chat_template.jinja`, "utf8"));
        const pixels: Float32Array[] = [];
        const grids: { h: number; w: number }[] = [];
        for (const [k, bytes] of imagesOf(golden, c).entries()) {
          const pre = preprocessImage(await decodeImage(bytes), { longSide: c.long_side });
          expect(pre.gridThw).toEqual(c.images[k]?.grid_thw);
          pixels.push(pre.pixelValues);
          grids.push({ h: pre.gridThw[1], w: pre.gridThw[2] });
          const layout = windowLayout([grids[k]!], {
            patchSize: 14,
            spatialMergeSize: 2,
            windowSize: manifest.vision.window_size,
          });
          expect(Array.from(layout.windowIndex)).toEqual(c.images[k]?.window_index);
        }
        const hash = createHash("sha256");
        for (const p of pixels) hash.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
        expect(hash.digest("hex")).toBe(c.pixel_values.sha256);

        const { ids } = encodeChatPrompt(tokenizer, template, turnsOf(golden, c), {
          imageTokenCounts: grids.map((g) => (g.h * g.w) / 4),
        });
        expect(Array.from(ids)).toEqual(c.input_ids);
        const special = manifest.special_tokens;
        const rope = ropeIndex(ids, grids, {
          imagePadId: special.image_pad,
          visionStartId: special.vision_start,
          spatialMergeSize: 2,
        });
        expect(rope.ropeDelta).toBe(c.rope_delta);
        expect(
          [0, 1, 2].map((a) =>
            Array.from(rope.positions.subarray(a * ids.length, (a + 1) * ids.length)),
          ),
        ).toEqual(c.position_ids);
      });

      it("generates the same greedy ids and decodes the same objects", async () => {
        const engine = engines.get(keyOf(c))!;
        expectGoldenAnswer(await engine.run(turnsOf(golden, c), optionsOf(golden, c)), c);
      });
    },
  );
});
