import { readFileSync } from "node:fs";
import { ErrorCode } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { ModelInspector } from "../src/engine/index.js";

const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const image = (name: string) => readFileSync(new URL(`./fixtures/images/${name}`, import.meta.url));

/** What a gateway replica (`padt serve --role gateway`) gets from the bundle without the model. */
describe("ModelInspector", () => {
  it("describes the model and gives an upload the grid the engine gives it, running nothing", async () => {
    const inspector = await ModelInspector.load({ bundle });
    expect(inspector.info).toMatchObject({ name: "padt-tiny-random", executionProvider: "cpu" });
    expect(inspector.stats()).toEqual({ workers: 0, slots: 0, busy: 0, queued: 0, maxQueue: 0 });
    // The same grid engine-generate.test.ts reads from the loaded engine for this image.
    expect(await inspector.inspectImage(image("rgb_200x150.png"))).toMatchObject({
      width: 200,
      height: 150,
      gridWidth: 23,
      gridHeight: 16,
    });
    expect(() => inspector.generate()).toThrow(
      expect.objectContaining({ code: ErrorCode.INTERNAL_SERVER_ERROR }),
    );
    await inspector.close();
  });

  it("refuses an image over its limits, as the engine does", async () => {
    const inspector = await ModelInspector.load({ bundle, imageLimits: { maxBytes: 10 } });
    await expect(inspector.inspectImage(image("rgb_200x150.png"))).rejects.toMatchObject({
      code: ErrorCode.IMAGE_TOO_LARGE,
    });
  });
});
