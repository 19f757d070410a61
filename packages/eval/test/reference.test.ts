/**
 * @padt/eval reports the PyTorch reference's RIC and rounding definitions through a port of
 * tools/padt/train/metrics.py (src/reference.ts); this checks the port against the Python
 * itself (tools/.venv).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AnswerSegment, Box } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { groundedPhrases, matchOneToOne, roundHalfEven } from "../src/reference.js";

const root = new URL("../../../", import.meta.url).pathname;
const python = join(root, "tools/.venv/bin/python");

const b = (x: number, y: number, width: number, height: number): Box => ({ x, y, width, height });
type Piece = string | number;

/** Segments for TS; the same answer with VRT runs (`<|VRT_j|>`) for Python. */
function answer(pieces: Piece[]): { segments: AnswerSegment[]; text: string } {
  let object = 0;
  const segments: AnswerSegment[] = [];
  let text = "";
  for (const p of pieces) {
    if (typeof p === "string") {
      segments.push({ type: "text", text: p });
      text += p;
    } else {
      segments.push({ type: "object", object: object++ });
      text += Array.from({ length: p }, (_, k) => `<|VRT_${(object * 7 + k) % 50}|>`).join("");
    }
  }
  return { segments, text };
}

const cases = [
  {
    pieces: [
      "There is a green square (",
      2,
      "), a green star (",
      1,
      ") and two crosses (",
      1,
      ", ",
      3,
      ").",
    ],
    pred: [b(10, 10, 20, 20), b(50, 50, 10, 10), b(0, 0, 5, 5), b(90, 90, 10, 10)],
    phrases: [
      { text: "a green square", boxes: [b(11, 10, 20, 20)] },
      { text: "green star", boxes: [b(0, 0, 10, 10)] },
      { text: "crosses", boxes: [b(90, 90, 10, 10), b(0, 0, 5, 5)] },
      { text: "a circle", boxes: [b(0, 0, 1, 1)] },
    ],
  },
  {
    pieces: ["A Red circle(", 1, ",", 1, ") ; bluesquare (", 1, ") and a square (", 1, ")"],
    pred: [b(0, 0, 10, 10), b(20, 20, 10, 10), b(40, 40, 10, 10), b(40, 40, 10, 10)],
    phrases: [
      { text: "red circle", boxes: [b(20, 20, 10, 10), b(0, 0, 10, 10)] },
      { text: "square", boxes: [b(40, 40, 10, 10)] },
    ],
  },
  {
    pieces: ["no groups at all", 1, " here"],
    pred: [b(1, 1, 1, 1)],
    phrases: [{ text: "here", boxes: [b(1, 1, 1, 1)] }],
  },
];

const halves = [0.5, 1.5, 2.5, -0.5, -1.5, 2.675, 3.49999, 7.5000001, 1e6 + 0.5, 0];

describe.skipIf(!existsSync(python))("eval reference port vs tools/padt/train/metrics.py", () => {
  it("grounded phrases, one-to-one matching and round() agree", () => {
    const xywh = (x: Box) => [x.x, x.y, x.width, x.height];
    const input = cases.map((c) => ({
      text: answer(c.pieces).text,
      pred: c.pred.map(xywh),
      phrases: c.phrases.map((p) => [p.text, p.boxes.map(xywh)]),
    }));
    const script = `
import json, sys
from padt.train import metrics
data = json.load(sys.stdin)
out = {"cases": [], "round": [round(v) for v in data["halves"]]}
for c in data["cases"]:
    out["cases"].append({
        "phrases": list(metrics.grounded_phrases(c["text"], c["pred"], [(t, b) for t, b in c["phrases"]])),
        "objects": metrics.match_one_to_one(c["pred"], [b for _, bs in c["phrases"] for b in bs]),
    })
print(json.dumps(out))`;
    const py = JSON.parse(
      execFileSync(python, ["-c", script], {
        cwd: join(root, "tools"),
        input: JSON.stringify({ cases: input, halves }),
      }).toString(),
    );
    expect(halves.map(roundHalfEven)).toEqual(py.round);
    cases.forEach((c, i) => {
      const { segments } = answer(c.pieces);
      expect(groundedPhrases(segments, c.pred, c.phrases), `case ${i}`).toEqual(
        py.cases[i].phrases,
      );
      expect(
        matchOneToOne(
          c.pred,
          c.phrases.flatMap((p) => p.boxes),
        ),
      ).toBe(py.cases[i].objects);
    });
    // The cases do exercise both outcomes.
    expect(py.cases[0].phrases).toEqual([2, 4]);
  });
});
