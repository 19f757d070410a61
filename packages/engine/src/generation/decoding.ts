import { ErrorCode, PadtError } from "@padt/protocol";

/** A request's decoding options (GenerateOptions' subset); absent: the bundle's. */
export interface DecodingOptions {
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed?: number;
}

/** The bundle's defaults: the checkpoint's generation_config.json (manifest `generation`). */
export interface GenerationDefaults {
  repetition_penalty?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
}

/** What every step applies, in transformers' order (see logits_process.ts). */
export interface DecodingSettings {
  doSample: boolean;
  /** Divides positive scores of ids already in the sequence, multiplies negative ones; 1: off. */
  repetitionPenalty: number;
  /** Sampling only, as transformers' warpers: temperature, then top-k (0: off), then top-p. */
  temperature: number;
  topK: number;
  topP: number;
  seed?: number;
}

const invalid = (message: string) => new PadtError(ErrorCode.OPTIONS_INVALID, message);

/**
 * transformers' `generate` semantics with the PaDT reference's call: greedy unless the request
 * samples (`doSample`, or a `temperature` above 0 without it); the repetition penalty applies
 * either way. Every value the request leaves out is the bundle's (transformers' defaults for
 * bundles without them: penalty 1, temperature 1, top_k 50, top_p 1). Sampling settings on a
 * greedy request are refused rather than ignored.
 */
export function resolveDecoding(
  options: DecodingOptions = {},
  defaults: GenerationDefaults = {},
): DecodingSettings {
  const { temperature, topK, topP, repetitionPenalty } = options;
  if (temperature !== undefined && !(temperature >= 0 && Number.isFinite(temperature)))
    throw invalid(`temperature must be >= 0 (got ${temperature})`);
  if (topP !== undefined && !(topP > 0 && topP <= 1))
    throw invalid(`topP must be in (0, 1] (got ${topP})`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0))
    throw invalid(`topK must be an integer >= 0 (got ${topK})`);
  if (
    repetitionPenalty !== undefined &&
    !(repetitionPenalty > 0 && Number.isFinite(repetitionPenalty))
  )
    throw invalid(`repetitionPenalty must be > 0 (got ${repetitionPenalty})`);
  const doSample = options.doSample ?? (temperature !== undefined && temperature > 0);
  if (!doSample && ((temperature ?? 0) > 0 || topK !== undefined || topP !== undefined))
    throw invalid("temperature, topK and topP sample: they need doSample (or temperature > 0)");
  const settings: DecodingSettings = {
    doSample,
    repetitionPenalty: repetitionPenalty ?? defaults.repetition_penalty ?? 1,
    temperature: temperature ?? defaults.temperature ?? 1,
    topK: topK ?? defaults.top_k ?? 50,
    topP: topP ?? defaults.top_p ?? 1,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  if (doSample && !(settings.temperature > 0))
    throw invalid(
      temperature === undefined
        ? "the bundle's temperature is 0: a sampled request must give its own"
        : "temperature must be > 0 when sampling",
    );
  return settings;
}
