import type { DecodedObject, GenerationResult } from "@padt/protocol";

/** Flags that every parser reports the same way. */
export function answerIssues(answer: GenerationResult): { partial: boolean; issues: string[] } {
  const issues: string[] = [];
  if (answer.finishReason === "length") issues.push("the answer was cut off at the token limit");
  if (answer.finishReason === "cancelled") issues.push("the generation was cancelled");
  return { partial: answer.finishReason !== "stop", issues };
}

/** Objects in answer order, whatever order they were decoded in. */
export function objectsInOrder(answer: GenerationResult): DecodedObject[] {
  return [...answer.objects].sort((a, b) => a.index - b.index);
}
