#!/usr/bin/env node
// Where a batch's time goes, in this thread (no worker): N copies of one golden conversation (or
// the goldens cycled) through one StepScheduler, the time of each kind of model call summed
// (from the call to its result: calls queued behind one another overlap, so the sums are upper
// bounds) and the mean batch size of the steps. Built code: npm run build first.
// Usage: node bench/engine/batch-profile.mjs
//   P_BUNDLE (padt-tiny-shapes | padt-tiny-random), P_THREADS (1), P_LEVELS (1,8,1,8),
//   P_CASE (index of one golden case; all cycled when unset).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadManifest } from "../../packages/engine/dist/bundle/index.js";
import { bundleProcessorConfig } from "../../packages/engine/dist/engine/processor_config.js";
import { collectResult } from "../../packages/engine/dist/generation/collect.js";
import { decodeImage } from "../../packages/engine/dist/image/decode.js";
import { generatePadt } from "../../packages/engine/dist/models/padt/generate.js";
import { preprocessImage } from "../../packages/engine/dist/models/padt/image_processing.js";
import { PadtModel } from "../../packages/engine/dist/models/padt/model.js";
import { StepScheduler } from "../../packages/engine/dist/models/padt/step_scheduler.js";
import { setting } from "../lib/settings.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const name = process.env.P_BUNDLE ?? "padt-tiny-shapes";
const dir = name === "padt-tiny-shapes" ? `${root}models/${name}` : `${root}tests/fixtures/${name}`;
const model = await PadtModel.open(dir, await loadManifest(dir, "size"), {
  intraOpThreads: setting("P_THREADS", 1),
});
const fixtures = `${root}tests/fixtures/`;
const golden = JSON.parse(readFileSync(`${fixtures}${name}.golden.json`, "utf8"));
const all = golden.cases.filter((c) => !c.first_vrt_features && !c.generation);
const longSide = all[0].long_side;
const overrides = bundleProcessorConfig(model.manifest, longSide);
const chosen = all.filter(
  (c, i) =>
    c.long_side === longSide && (process.env.P_CASE === undefined || `${i}` === process.env.P_CASE),
);
const conversations = [];
for (const c of chosen) {
  const images = [];
  for (let k = 0; k < c.images.length; k++) {
    const decoded = await decodeImage(
      new Uint8Array(readFileSync(`${fixtures}${name}.images/${c.name}_${k}.png`)),
    );
    const encoded = await model.encodeImage(preprocessImage(decoded, overrides));
    images.push({ encoded, width: decoded.width, height: decoded.height });
  }
  const content = [
    ...c.images.map(() => ({ type: "image", data: new Uint8Array(0) })),
    { type: "text", text: c.prompt },
  ];
  conversations.push({ turns: [{ role: "user", content }], images });
}

const ms = {};
const calls = {};
const sizes = [];
for (const method of ["step", "stepBatch", "decode"]) {
  const call = model[method].bind(model);
  model[method] = async (...args) => {
    if (method === "stepBatch") sizes.push(args[0].ids.length);
    const t0 = performance.now();
    const out = await call(...args);
    ms[method] = (ms[method] ?? 0) + performance.now() - t0;
    calls[method] = (calls[method] ?? 0) + 1;
    return out;
  };
}
const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : "-");
for (const n of (process.env.P_LEVELS ?? "1,8,1,8").split(",").map(Number)) {
  for (const k of Object.keys(ms)) [ms[k], calls[k]] = [0, 0];
  sizes.length = 0;
  const scheduler = new StepScheduler(model);
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const c = conversations[i % conversations.length];
      return collectResult(
        generatePadt(
          model,
          c.turns,
          c.images,
          { maxNewTokens: 64 },
          { maxContextTokens: 8192 },
          { cancelled: false },
          scheduler,
        ),
      );
    }),
  );
  const wall = performance.now() - t0;
  const tokens = results.reduce((s, r) => s + r.usage.completionTokens, 0);
  const meanB = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  console.log(
    `${n} in flight: ${tokens} tokens in ${f(wall)} ms, ${scheduler.steps} steps (mean B ${f(meanB)}), ` +
      `${f(ms.stepBatch / calls.stepBatch)} ms per step call; sums: steps ${f(ms.stepBatch)}, ` +
      `prefills ${f(ms.step)}, decoder ${f(ms.decode)} (${calls.decode} runs)`,
  );
}
