/**
 * `trimHistory` for the PaDT model: each candidate prompt is tokenized for real (the chat
 * template, the images' token counts from their headers, the references' VRT ids), so what is
 * kept is exactly what fits; images are sized without decoding them.
 */

import type { ChatTurn } from "@padt/protocol";
import { type ContextFit, fitContext } from "../../generation/fit_context.js";
import { readImageHeader } from "../../image/header.js";
import { promptIds } from "./generate.js";
import { type ImageProcessorConfig, modelInputSize } from "./image_processing.js";
import type { PadtModel } from "./model.js";

/** Merge units (LLM tokens) of an encoded image, from its header alone. */
export function imageUnits(bytes: Uint8Array, processor: Partial<ImageProcessorConfig>): number {
  const { width, height } = readImageHeader(bytes);
  const size = modelInputSize(height, width, processor);
  return size.gridWidth * size.gridHeight;
}

/** The most recent turns whose prompt leaves room for `maxNewTokens` in `maxContextTokens`. */
export function trimToContext(
  model: Pick<PadtModel, "manifest" | "tokenizer" | "template">,
  turns: readonly ChatTurn[],
  units: readonly number[],
  budget: { maxNewTokens: number; maxContextTokens: number },
): ContextFit {
  return fitContext(
    turns,
    (fit) =>
      promptIds(
        model,
        fit.turns,
        fit.images.map((i) => units[i] as number),
      ).length +
        budget.maxNewTokens <=
      budget.maxContextTokens,
  );
}
