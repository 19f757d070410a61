/**
 * The engine's processed scores against transformers' own: fixtures/logits_processors.json
 * holds what the LogitsProcessorList that transformers 4.50's generate builds from a
 * GenerationConfig does to fixed scores and ids (tools/scripts/make_logits_fixtures.py).
 * Exact float32 equality, -inf where transformers filters.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { resolveDecoding } from "../src/generation/decoding.js";
import { repetitionPenalty } from "../src/generation/logits_process.js";
import { argmax, createSampler, processScores } from "../src/generation/sampling.js";

interface Fixture {
  steps: { scores: (number | null)[]; sequence: number[] }[];
  cases: {
    name: string;
    settings: {
      do_sample?: boolean;
      repetition_penalty?: number;
      temperature?: number;
      top_k?: number;
      top_p?: number;
    };
    processors: string[];
    expected: (number | null)[][];
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/logits_processors.json", import.meta.url), "utf8"),
) as Fixture;
const scores = (values: (number | null)[]) =>
  Float32Array.from(values, (v) => (v === null ? Number.NEGATIVE_INFINITY : v));

describe("logits processors, as transformers' generate applies them", () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const s = c.settings;
    const settings = resolveDecoding({
      ...(s.do_sample !== undefined ? { doSample: s.do_sample } : {}),
      ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
      ...(s.top_k !== undefined ? { topK: s.top_k } : {}),
      ...(s.top_p !== undefined ? { topP: s.top_p } : {}),
      ...(s.repetition_penalty !== undefined ? { repetitionPenalty: s.repetition_penalty } : {}),
    });
    for (const [k, step] of fixture.steps.entries()) {
      const got = processScores(scores(step.scores), new Set(step.sequence), settings);
      expect(Array.from(got)).toEqual(Array.from(scores(c.expected[k]!)));
    }
  });

  it("penalises prompt, image-pad and VRT ids once each, masked rows staying -inf", () => {
    const step = fixture.steps[0]!;
    const raw = scores(step.scores);
    const got = repetitionPenalty(raw, new Set(step.sequence), 2);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      if (!step.sequence.includes(i)) expect(got[i]).toBe(v);
      else if (v === Number.NEGATIVE_INFINITY) expect(got[i]).toBe(v);
      else expect(got[i]).toBe(Math.fround(v < 0 ? v * 2 : v / 2));
    }
    expect(step.sequence.some((id) => id >= 256)).toBe(true); // VRT ids are in it
  });

  it("greedy picks the argmax of the penalised scores, which the bundle's penalty changes", () => {
    const logits = Float32Array.from([1, 5, 4.9, -2]);
    const seen = new Set([1]);
    expect(createSampler(resolveDecoding())(logits, seen)).toBe(1);
    const penalised = createSampler(resolveDecoding({}, { repetition_penalty: 1.05 }));
    expect(penalised(logits, seen)).toBe(2);
    expect(argmax(logits)).toBe(1);
    expect(
      createSampler(resolveDecoding({ repetitionPenalty: 1 }, { repetition_penalty: 1.05 }))(
        logits,
        seen,
      ),
    ).toBe(1);
  });
});
