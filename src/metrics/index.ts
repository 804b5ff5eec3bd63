/**
 * ISIC 2017 scoring: pure per-image segmentation scores and per-class classification scores.
 *
 * @example
 * import { binarizeValues, confusionCounts, segmentationScores, rocAuc } from '../metrics/index.js';
 * segmentationScores(confusionCounts(binarizeValues(predicted255), binarizeValues(truth255))).jaccard;
 * rocAuc([0.9, 0.1], [1, 0]); // 1
 */
export {
  MASK_THRESHOLD,
  THRESHOLDED_JACCARD_CUTOFF,
  binarizeValues,
  confusionCounts,
  dice,
  jaccard,
  mean,
  pixelAccuracy,
  segmentationScores,
  sensitivity,
  specificity,
  summarizeSegmentation,
  thresholdedJaccard,
} from './segmentation.js';
export type { ConfusionCounts, SegmentationScores, SegmentationSummary } from './segmentation.js';
export {
  DEFAULT_DECISION_THRESHOLD,
  ISIC2017_SENSITIVITY_TARGETS,
  averagePrecision,
  metricsAtThreshold,
  rocAuc,
  rocCurve,
  specificityAtSensitivity,
  summarizeClassification,
} from './classification.js';
export type {
  BinaryLabel,
  ClassificationSummary,
  RocPoint,
  SensitivityTarget,
  SensitivityTargetKey,
  ThresholdMetrics,
} from './classification.js';
