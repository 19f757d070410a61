export { boxIou } from "./box.js";
export {
  type CocoAnnotation,
  type CocoCategory,
  type CocoDataset,
  type CocoDetection,
  type CocoEvalResult,
  type CocoImage,
  type CocoSegmentation,
  cocoEvaluate,
  type IouType,
  STAT_NAMES,
  type StatName,
} from "./coco/index.js";
export {
  type LabelledBox,
  paperRecSample,
  REC_IOU_THRESHOLD,
  type RecMetrics,
  type RecSample,
  recMetrics,
  recSampleIou,
} from "./rec.js";
export {
  type EvalMetricFamily,
  type EvalReport,
  formatCocoStats,
  formatSummary,
  type OvdMetrics,
  type ReportMeta,
} from "./report.js";
export {
  RES_PRECISION_THRESHOLDS,
  type ResMetrics,
  type ResSample,
  resMetrics,
  resSampleCounts,
} from "./res.js";
export {
  matchPhrases,
  normalisePhrase,
  type PhraseMatch,
  RIC_IOU_THRESHOLD,
  type RicMetrics,
  type RicPhrase,
  type RicSample,
  ricMetrics,
  unionBox,
} from "./ric.js";
export {
  type BoxMetrics,
  type CaptionMetrics,
  type Scored,
  type ScoredMetrics,
  scoreSamples,
} from "./score.js";
export { bleu4, type CaptionPair, ROUGE_L_BETA, rougeL, rougeLOne, tokenize } from "./text.js";
