import type { AnswerSegment, DecodedObject, GenerationResult } from "@padt/protocol";

/**
 * What no PaDT answer template allows (every template quotes names in pairs and puts objects in
 * non-empty parentheses, or none): a garbled answer such as `The "the green are ), 1 "circle"
 * ()` breaks at least one of these, and its result is a guess.
 */
export function templateIssues(segments: readonly AnswerSegment[]): string[] {
  let quotes = 0;
  let depth = 0;
  let strayClose = false;
  let emptyGroup = false;
  let objectsInGroup = 0;
  for (const segment of segments) {
    if (segment.type === "object") {
      objectsInGroup += 1;
      continue;
    }
    for (const ch of segment.text) {
      if (ch === '"') quotes += 1;
      else if (ch === "(") {
        depth += 1;
        objectsInGroup = 0;
      } else if (ch === ")") {
        if (depth === 0) strayClose = true;
        else if (objectsInGroup === 0) emptyGroup = true;
        depth = Math.max(0, depth - 1);
      }
    }
  }
  const issues: string[] = [];
  if (quotes % 2 === 1) issues.push("the answer does not follow the template: a quote is unclosed");
  if (strayClose || depth > 0)
    issues.push("the answer does not follow the template: its parentheses do not pair up");
  if (emptyGroup)
    issues.push("the answer does not follow the template: parentheses hold no object");
  return issues;
}

/**
 * Flags that every parser reports the same way: a cut-off or cancelled answer, and one that
 * breaks the answer templates (garbled), are partial.
 */
export function answerIssues(answer: GenerationResult): { partial: boolean; issues: string[] } {
  const issues: string[] = [];
  if (answer.finishReason === "length") issues.push("the answer was cut off at the token limit");
  if (answer.finishReason === "cancelled") issues.push("the generation was cancelled");
  // A cut-off answer is partial already; its open quote or parenthesis is no further news.
  const garbled = answer.finishReason === "stop" ? templateIssues(answer.segments) : [];
  issues.push(...garbled);
  return { partial: answer.finishReason !== "stop" || garbled.length > 0, issues };
}

/** Objects in answer order, whatever order they were decoded in. */
export function objectsInOrder(answer: GenerationResult): DecodedObject[] {
  return [...answer.objects].sort((a, b) => a.index - b.index);
}
