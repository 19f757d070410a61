// The PaDT decoder on its own thread (engine/object_decoder.ts): it gives the in-thread
// decoder's geometry, and a thread that dies is replaced at the next object instead of
// failing every later answer of the worker.
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadManifest } from "../src/bundle/index.js";
import { DecoderThread } from "../src/engine/object_decoder.js";
import { bundleProcessorConfig } from "../src/engine/processor_config.js";
import { decodeImage } from "../src/image/decode.js";
import { decodeObjectGeometry } from "../src/models/padt/decode_object.js";
import { preprocessImage } from "../src/models/padt/image_processing.js";
import { type EncodedImage, PadtModel } from "../src/models/padt/model.js";
import { fixtures, imagesOf, loadGolden } from "./golden-cases.js";

const dir = `${fixtures}padt-tiny-random`;

describe("the decoder thread", () => {
  let model: PadtModel;
  let thread: DecoderThread;
  let image: EncodedImage;
  let size: { width: number; height: number };
  let features: Float32Array;
  beforeAll(async () => {
    const manifest = await loadManifest(dir, "size");
    model = await PadtModel.open(dir, manifest, { intraOpThreads: 1 });
    thread = await DecoderThread.start({ bundle: dir, manifest, session: { intraOpThreads: 1 } });
    const golden = loadGolden("padt-tiny-random");
    const decoded = await decodeImage(imagesOf(golden, golden.cases[0]!)[0]!);
    image = await model.encodeImage(
      preprocessImage(decoded, bundleProcessorConfig(manifest, null)),
    );
    size = { width: decoded.width, height: decoded.height };
    // Any VRT features will do: both sides must agree on them.
    features = Float32Array.from({ length: 3 * model.hidden }, (_, i) => Math.sin(i * 0.37));
  });
  afterAll(async () => {
    await thread?.close();
  });

  it("gives the in-thread decoder's geometry, and starts again after its thread died", async () => {
    const inline = await decodeObjectGeometry(model, features, image, size);
    expect(await thread.decodeObject(features, image, size)).toEqual(inline);
    await thread.terminate(); // as a crash would: the thread is gone
    expect(await thread.decodeObject(features, image, size)).toEqual(inline);
    expect(thread.starts).toBe(2);
  });

  it("posts the image's size alone, whatever else the size object carries", async () => {
    const post = vi.spyOn(Worker.prototype, "postMessage");
    try {
      // generate.ts once passed its ConversationImage here: every encoded array went along.
      const conversationImage = { ...size, encoded: image };
      await thread.decodeObject(features, image, conversationImage);
      const [request] = post.mock.calls.at(-1) as [{ size: unknown }];
      expect(request.size).toStrictEqual({ width: size.width, height: size.height });
    } finally {
      post.mockRestore();
    }
  });

  it("refuses objects once closed", async () => {
    await thread.close();
    await expect(thread.decodeObject(features, image, size)).rejects.toThrow("closed");
  });
});
