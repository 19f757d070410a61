import { describe, expect, it } from "vitest";
import { type TrackerEvent, VrtTracker, vrtOf } from "../src/generation/vrt_tracker.js";

const V = 100;
const layout = { textVocabSize: V, patchCounts: [20, 30] };

/** Feeds (id, text) pairs, steps numbered from 0, and returns the closed objects. */
function read(tokens: Array<[number, string]>) {
  const tracker = new VrtTracker(layout);
  const events: TrackerEvent[] = [];
  for (const [step, [id, text]] of tokens.entries()) events.push(...tracker.push(id, text, step));
  events.push(...tracker.finish());
  return {
    events,
    objects: events.flatMap((e) => (e.type === "close" ? [e.object] : [])),
  };
}

const t = (text: string): [number, string] => [1, text];
const vrt = (global: number): [number, string] => [V + global, ""];

describe("VRT ids", () => {
  it("index the images' patches concatenated in order", () => {
    expect(vrtOf(layout, 99)).toBeUndefined();
    expect(vrtOf(layout, 100)).toEqual({ image: 0, patch: 0 });
    expect(vrtOf(layout, 119)).toEqual({ image: 0, patch: 19 });
    expect(vrtOf(layout, 120)).toEqual({ image: 1, patch: 0 });
    expect(vrtOf(layout, 150)).toBeUndefined();
  });
});

describe("VrtTracker", () => {
  it("reads a REC answer: one object, labelled by the quoted expression", () => {
    const { objects } = read([
      t("The"),
      t(' "'),
      t("red"),
      t(" circle"),
      t('"'),
      t(" refers to"),
      t(" "),
      vrt(3),
      vrt(4),
      vrt(9),
      t(" in"),
    ]);
    expect(objects).toEqual([
      { index: 0, label: "red circle", image: 0, patches: [3, 4, 9], steps: [7, 8, 9] },
    ]);
  });

  it("reads an OVD answer: the label carries over to later runs until a new quote", () => {
    const { objects } = read([
      t("There are 2"),
      t(' "'),
      t("star"),
      t('" ('),
      vrt(1),
      vrt(2),
      t(", "),
      vrt(5),
      t("), 1"),
      t(' "'),
      t("dot"),
      t('" ('),
      vrt(7),
      t(")."),
    ]);
    expect(objects.map((o) => [o.label, o.patches])).toEqual([
      ["star", [1, 2]],
      ["star", [5]],
      ["dot", [7]],
    ]);
  });

  it("sends each object's label with its first token only", () => {
    const { events } = read([t('"star" ('), vrt(1), vrt(2), t(", "), vrt(5), t(') "dot'), vrt(7)]);
    expect(events.filter((e) => e.type === "vrt")).toEqual([
      { type: "vrt", object: 0, image: 0, patch: 1, label: "star" },
      { type: "vrt", object: 0, image: 0, patch: 2 },
      { type: "vrt", object: 1, image: 0, patch: 5, label: "star" },
      { type: "vrt", object: 2, image: 0, patch: 7, label: "dot" },
    ]);
  });

  it("gives an empty label when no quote came before (RIC)", () => {
    const { objects } = read([t("A man ("), vrt(0), t(") rides")]);
    expect(objects[0]?.label).toBe("");
  });

  it("strips the text of a quote that the run closes, as padt.vrt (the reference keeps it)", () => {
    const { objects } = read([t('The "'), t("blue"), t(" star "), vrt(0)]);
    expect(objects[0]?.label).toBe("blue star");
  });

  it("takes the text after the quote when one token opens it", () => {
    const { objects } = read([t(' "cat'), t('"'), vrt(0)]);
    expect(objects[0]?.label).toBe("cat");
  });

  it("closes a run that reaches the end of the answer", () => {
    const { objects, events } = read([t('"x"'), vrt(1), vrt(2)]);
    expect(objects).toHaveLength(1);
    expect(events.filter((e) => e.type === "vrt")).toHaveLength(2);
  });

  it("starts a new object when a run jumps to another image", () => {
    const { objects } = read([vrt(1), vrt(25)]);
    expect(objects.map((o) => [o.image, o.patches])).toEqual([
      [0, [1]],
      [1, [5]],
    ]);
  });
});
