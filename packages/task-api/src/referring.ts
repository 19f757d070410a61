import type { DecodedObject } from "@padt/protocol";
import { z } from "zod";

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
