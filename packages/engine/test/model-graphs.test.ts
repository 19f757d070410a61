// PadtModel.open's `graphs`: a thread opens only the graphs it runs (the decoder thread, and a
// worker whose objects decode there), so no graph's weights are in memory twice.
import { describe, expect, it } from "vitest";
import { loadManifest } from "../src/bundle/index.js";
import { PadtModel } from "../src/models/padt/model.js";
import { fixtures } from "./golden-cases.js";

describe("PadtModel.open with a subset of the graphs", () => {
  it("runs the graphs it opened and refuses the others by name", async () => {
    const dir = `${fixtures}padt-tiny-random`;
    const model = await PadtModel.open(dir, await loadManifest(dir, "size"), {}, ["decoder"]);
    expect(model.provider.name).toBe("cpu");
    const pixels = { pixelValues: new Float32Array(4 * 1176), gridThw: [1, 2, 2] };
    await expect(model.encodeImage(pixels as never)).rejects.toThrow(
      "the vision graph was not opened in this thread",
    );
  });
});
