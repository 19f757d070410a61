import type { DecodedObject } from "@padt/protocol";
import { z } from "zod";
import {
  datasetList,
  type EvalDataset,
  type EvalQuery,
  type EvalQueryOptions,
} from "./evaluation.js";

/** Input of the referring tasks (REC, RES): one expression naming one object. */
export const referringInput = z.object({
  expression: z.string().trim().min(1, "expression is empty").max(500),
});
export type ReferringInput = z.infer<typeof referringInput>;

/** The prompt REC and RES were trained on (PADT_MODEL.md section 4). */
export function referringPrompt(expression: string): string {
  return `Please carefully check the image and detect the object this sentence describes: "${expression}".`;
}

/** REC and RES answers name one object; more than one is reported and the first kept. */
export function pickReferredObject(
  objects: DecodedObject[],
  issues: string[],
): DecodedObject | null {
  if (objects.length === 0) issues.push("the answer points at no object");
  if (objects.length > 1)
    issues.push(`the answer points at ${objects.length} objects; the first is used`);
  return objects[0] ?? null;
}

/** One entry of the Shapes generator's `referring` list. */
export interface ReferringEntry {
  image_id: number;
  expression: string;
  annotation_id: number;
  prompt?: string;
}

/**
 * REC's and RES's evaluation queries, as tools/padt/train/evaluate.py asks them: the first
 * `perImage` (default 2) referring expressions of each image, in file order.
 */
export function referringQueries(data: EvalDataset, options: EvalQueryOptions): EvalQuery[] {
  const perImage = options.perImage ?? 2;
  const seen = new Map<number, number>();
  const out: EvalQuery[] = [];
  for (const e of datasetList<ReferringEntry>(data, "referring")) {
    if (!options.imageIds.has(e.image_id)) continue;
    const n = seen.get(e.image_id) ?? 0;
    seen.set(e.image_id, n + 1);
    if (n < perImage)
      out.push({
        imageId: e.image_id,
        input: { expression: e.expression },
        ...(e.prompt !== undefined ? { prompt: e.prompt } : {}),
        entry: e,
      });
  }
  return out;
}

/** "Many objects" and "small target" as the model card's subsets (evaluate.py's). */
const MANY_OBJECTS = 5;
const SMALL_PX = 40;

/**
 * The subsets a referring query belongs to, as tools/padt/train/evaluate.py tags them: by the
 * number of objects in its image, and by its target's size (the longer side of its box).
 */
export function referringSubsets(data: EvalDataset, e: ReferringEntry): string[] {
  const objects = data.annotations.filter((a) => a.image_id === e.image_id).length;
  const target = data.annotations.find((a) => a.id === e.annotation_id);
  const side = target ? Math.max(target.bbox[2], target.bbox[3]) : 0;
  return [
    objects >= MANY_OBJECTS ? `objects>=${MANY_OBJECTS}` : `objects<${MANY_OBJECTS}`,
    side < SMALL_PX ? `<${SMALL_PX}px` : `>=${SMALL_PX}px`,
  ];
}

/** A sample's id: image, annotation and expression. */
export const referringSampleId = (e: ReferringEntry) =>
  `${e.image_id}/${e.annotation_id}/${e.expression}`;
