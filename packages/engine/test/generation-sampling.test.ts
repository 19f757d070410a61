import { ErrorCode } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { type DecodingOptions, resolveDecoding } from "../src/generation/decoding.js";
import { argmax, createSampler as fromSettings, seededRandom } from "../src/generation/sampling.js";

const none = new Set<number>();
// A sampler as a request gets it from a bundle without generation settings (transformers'
// defaults: top_k 50, which keeps all of these small vocabularies).
const createSampler = (options: DecodingOptions = {}) => {
  const sample = fromSettings(resolveDecoding(options));
  return (logits: Float32Array) => sample(logits, none);
};

describe("sampling", () => {
  it("is greedy by default, taking the first of equal maxima", () => {
    const sample = createSampler();
    expect(sample(new Float32Array([0.1, 3, 3, -1]))).toBe(1);
    expect(argmax(new Float32Array([Number.NEGATIVE_INFINITY, -5, -7]))).toBe(1);
  });

  it("repeats the same samples for the same seed and differs across seeds", () => {
    const logits = new Float32Array(50).map((_, i) => Math.sin(i));
    const run = (seed: number) => {
      const s = createSampler({ temperature: 1, seed });
      return Array.from({ length: 20 }, () => s(logits));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("never samples a masked (-inf) token", () => {
    const logits = new Float32Array([0, Number.NEGATIVE_INFINITY, 0, Number.NEGATIVE_INFINITY]);
    const s = createSampler({ temperature: 5, seed: 1 });
    for (let i = 0; i < 200; i++) expect([0, 2]).toContain(s(logits));
  });

  it("keeps only the nucleus with top-p", () => {
    // Probabilities ~0.64, 0.24, 0.09, 0.03: top-p 0.7 keeps the first two.
    const logits = new Float32Array([3, 2, 1, 0]);
    const s = createSampler({ temperature: 1, topP: 0.7, seed: 3 });
    const seen = new Set(Array.from({ length: 500 }, () => s(logits)));
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it("draws in proportion to the softmax", () => {
    const s = createSampler({ temperature: 1, seed: 11 });
    const logits = new Float32Array([Math.log(3), 0]);
    const n = 4000;
    let zeros = 0;
    for (let i = 0; i < n; i++) if (s(logits) === 0) zeros++;
    expect(zeros / n).toBeGreaterThan(0.72);
    expect(zeros / n).toBeLessThan(0.78);
  });

  it("refuses settings it cannot honour, and sampling settings on a greedy request", () => {
    // The same code the gateway gives for the same mistake: options are not task input.
    expect(() => createSampler({ temperature: -1 })).toThrow(
      expect.objectContaining({ code: ErrorCode.OPTIONS_INVALID }),
    );
    expect(() => createSampler({ temperature: 1, topP: 0 })).toThrow(/topP/);
    expect(() => createSampler({ doSample: true, topK: 1.5 })).toThrow(/topK/);
    expect(() => createSampler({ repetitionPenalty: 0 })).toThrow(/repetitionPenalty/);
    expect(() => createSampler({ topP: 0.9 })).toThrow(/doSample/);
    expect(() => createSampler({ doSample: false, temperature: 0.7 })).toThrow(/doSample/);
    expect(() => createSampler({ doSample: true, temperature: 0 })).toThrow(/temperature/);
    expect(() => fromSettings(resolveDecoding({ doSample: true }, { temperature: 0 }))).toThrow(
      /bundle's temperature/,
    );
  });

  it("takes what the request leaves out from the bundle, as transformers' generate", () => {
    const bundle = { repetition_penalty: 1.05, temperature: 0.1, top_k: 1, top_p: 0.001 };
    expect(resolveDecoding({}, bundle)).toMatchObject({ doSample: false, repetitionPenalty: 1.05 });
    expect(resolveDecoding({ doSample: true }, bundle)).toMatchObject({
      doSample: true,
      temperature: 0.1,
      topK: 1,
      topP: 0.001,
    });
    expect(resolveDecoding({ temperature: 0.8, topK: 0, repetitionPenalty: 1 }, bundle)).toEqual({
      doSample: true,
      repetitionPenalty: 1,
      temperature: 0.8,
      topK: 0,
      topP: 0.001,
    });
    expect(resolveDecoding({ temperature: 0 })).toMatchObject({ doSample: false });
    // top_k 1 (Qwen's file): sampling degenerates to the argmax.
    const s = fromSettings(resolveDecoding({ doSample: true, seed: 5 }, bundle));
    const logits = new Float32Array(30).map((_, i) => Math.cos(i));
    for (let i = 0; i < 20; i++) expect(s(logits, none)).toBe(argmax(logits));
  });

  it("has a uniform-looking seeded generator", () => {
    const r = seededRandom(42);
    const xs = Array.from({ length: 10000 }, r);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});
