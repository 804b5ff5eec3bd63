/**
 * Binary classification scores, as in the ISIC 2017 Part 3 challenge (Codella et al. 2017,
 * arXiv:1710.05006): each class column (melanoma vs rest, seborrheic keratosis vs rest) is scored
 * on its own from the raw scores and the 0/1 labels.
 *
 * Conventions:
 * - A prediction is positive when `score >= threshold` (the project's operating-point rule, shared
 *   with training/ and the model contract). The 2017 scorer used `score > 0.5`; the two differ only
 *   for a score of exactly the threshold.
 * - A rate with an empty denominator (sensitivity without positives, specificity without
 *   negatives) is `null`, as in the 2017 scorer, and so are AUC, the ROC curve and
 *   specificity-at-sensitivity without both classes, and average precision without positives.
 * - Tied scores form one operating point (one ROC vertex), as in scikit-learn.
 *
 * Pure functions, no I/O.
 */

/** A ground-truth label: 1 = the class is present. */
export type BinaryLabel = 0 | 1;

/** One operating point of a ROC curve: predict positive when `score >= threshold`. */
export interface RocPoint {
  /** `Infinity` for the first point, where nothing is predicted positive. */
  readonly threshold: number;
  readonly falsePositiveRate: number;
  readonly truePositiveRate: number;
}

/** Accuracy, sensitivity and specificity of the decision `score >= threshold`. */
export interface ThresholdMetrics {
  /** `null` only for an empty sample. */
  readonly accuracy: number | null;
  /** `null` without positives. */
  readonly sensitivity: number | null;
  /** `null` without negatives. */
  readonly specificity: number | null;
}

/** The sensitivity levels at which ISIC 2017 reports specificity. */
export const ISIC2017_SENSITIVITY_TARGETS = [0.82, 0.89, 0.95] as const;
export type SensitivityTarget = (typeof ISIC2017_SENSITIVITY_TARGETS)[number];

/** Keys of {@link ClassificationSummary.specificityAt}, e.g. `"0.82"`. */
export type SensitivityTargetKey = `${SensitivityTarget}`;

/** Every ISIC 2017 Part 3 score of one class column. */
export interface ClassificationSummary {
  readonly auc: number | null;
  readonly averagePrecision: number | null;
  readonly accuracy: number | null;
  readonly sensitivity: number | null;
  readonly specificity: number | null;
  readonly specificityAt: Readonly<Record<SensitivityTargetKey, number | null>>;
}

/** The default decision threshold on calibrated probabilities. */
export const DEFAULT_DECISION_THRESHOLD = 0.5;

/** Samples sharing one score: one operating point. */
interface ScoreGroup {
  readonly score: number;
  readonly positives: number;
  readonly negatives: number;
}

interface GroupedScores {
  /** Highest score first. */
  readonly groups: readonly ScoreGroup[];
  readonly positives: number;
  readonly negatives: number;
}

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) {
    throw new RangeError(`${scores.length} scores but ${labels.length} labels`);
  }
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i] as number;
    const label = labels[i] as number;
    if (!Number.isFinite(score)) throw new RangeError(`score ${score} at index ${i} is not a finite number`);
    if (label !== 0 && label !== 1) throw new RangeError(`label ${label} at index ${i} is not 0 or 1`);
  }
}

function groupByScoreDescending(scores: ArrayLike<number>, labels: ArrayLike<number>): GroupedScores {
  checkInputs(scores, labels);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number),
  );
  const groups: ScoreGroup[] = [];
  let positives = 0;
  let negatives = 0;
  let i = 0;
  while (i < order.length) {
    const score = scores[order[i] as number] as number;
    let groupPositives = 0;
    let groupNegatives = 0;
    while (i < order.length && scores[order[i] as number] === score) {
      if (labels[order[i] as number] === 1) groupPositives++;
      else groupNegatives++;
      i++;
    }
    groups.push({ score, positives: groupPositives, negatives: groupNegatives });
    positives += groupPositives;
    negatives += groupNegatives;
  }
  return { groups, positives, negatives };
}

/**
 * ROC curve over every distinct score, highest threshold first, starting at (0, 0) with threshold
 * `Infinity` and ending at (1, 1) — scikit-learn's `roc_curve(drop_intermediate=False)`.
 * `null` unless both classes are present.
 *
 * @example
 * rocCurve([0.9, 0.4], [1, 0]);
 * // [{threshold: Infinity, fpr 0, tpr 0}, {threshold: 0.9, fpr 0, tpr 1}, {threshold: 0.4, fpr 1, tpr 1}]
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] | null {
  const { groups, positives, negatives } = groupByScoreDescending(scores, labels);
  if (positives === 0 || negatives === 0) return null;
  const points: RocPoint[] = [{ threshold: Infinity, falsePositiveRate: 0, truePositiveRate: 0 }];
  let truePositives = 0;
  let falsePositives = 0;
  for (const group of groups) {
    truePositives += group.positives;
    falsePositives += group.negatives;
    points.push({
      threshold: group.score,
      falsePositiveRate: falsePositives / negatives,
      truePositiveRate: truePositives / positives,
    });
  }
  return points;
}

/**
 * Area under the ROC curve as the Mann–Whitney statistic: the share of (positive, negative) pairs
 * in which the positive scores higher, a tie counting one half. Equals the trapezoidal area under
 * {@link rocCurve}. `null` unless both classes are present.
 *
 * @example
 * rocAuc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]); // (1 + 1 + 0.5 + 1) / 4 = 0.875
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const { groups, positives, negatives } = groupByScoreDescending(scores, labels);
  if (positives === 0 || negatives === 0) return null;
  let pairsWon = 0;
  let positivesAbove = 0;
  for (const group of groups) {
    pairsWon += group.negatives * (positivesAbove + group.positives / 2);
    positivesAbove += group.positives;
  }
  return pairsWon / (positives * negatives);
}

/**
 * Average precision as scikit-learn's `average_precision_score`: Σₙ (Rₙ − Rₙ₋₁) · Pₙ over the
 * distinct scores from highest to lowest (no interpolation). `null` without positives.
 *
 * @example
 * averagePrecision([0.9, 0.8, 0.7], [1, 0, 1]); // 0.5 · 1 + 0.5 · 2/3 = 5/6
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const { groups, positives } = groupByScoreDescending(scores, labels);
  if (positives === 0) return null;
  let sum = 0;
  let truePositives = 0;
  let predictedPositives = 0;
  for (const group of groups) {
    truePositives += group.positives;
    predictedPositives += group.positives + group.negatives;
    // recall step (group.positives / positives) times the precision at this threshold
    sum += group.positives * (truePositives / predictedPositives);
  }
  return sum / positives;
}

/**
 * Accuracy, sensitivity and specificity of predicting positive when `score >= threshold`.
 *
 * @example
 * metricsAtThreshold([0.7, 0.5, 0.2], [1, 0, 0]); // accuracy 2/3, sensitivity 1, specificity 0.5
 */
export function metricsAtThreshold(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number = DEFAULT_DECISION_THRESHOLD,
): ThresholdMetrics {
  checkInputs(scores, labels);
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  let trueNegatives = 0;
  for (let i = 0; i < scores.length; i++) {
    const predictedPositive = (scores[i] as number) >= threshold;
    if (labels[i] === 1) {
      if (predictedPositive) truePositives++;
      else falseNegatives++;
    } else if (predictedPositive) falsePositives++;
    else trueNegatives++;
  }
  const positives = truePositives + falseNegatives;
  const negatives = trueNegatives + falsePositives;
  return {
    accuracy: scores.length === 0 ? null : (truePositives + trueNegatives) / scores.length,
    sensitivity: positives === 0 ? null : truePositives / positives,
    specificity: negatives === 0 ? null : trueNegatives / negatives,
  };
}

/**
 * The ISIC 2017 "specificity at sensitivity": the highest specificity among the ROC operating
 * points whose sensitivity is at least `targetSensitivity`. `null` unless both classes are present.
 *
 * @throws RangeError when `targetSensitivity` is not in (0, 1].
 * @example
 * // positives 0.9, 0.8, 0.3; negatives 0.7, 0.4, 0.2, 0.1
 * specificityAtSensitivity([0.9, 0.8, 0.3, 0.7, 0.4, 0.2, 0.1], [1, 1, 1, 0, 0, 0, 0], 0.82);
 * // sensitivity 1 first reached at threshold 0.3 with 2 of 4 negatives above: 0.5
 */
export function specificityAtSensitivity(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  targetSensitivity: number,
): number | null {
  if (!(targetSensitivity > 0 && targetSensitivity <= 1)) {
    throw new RangeError(`target sensitivity ${targetSensitivity} is not in (0, 1]`);
  }
  const curve = rocCurve(scores, labels);
  if (curve === null) return null;
  let best = 0;
  for (const point of curve) {
    if (point.truePositiveRate >= targetSensitivity) best = Math.max(best, 1 - point.falsePositiveRate);
  }
  return best;
}

/**
 * Every ISIC 2017 Part 3 score of one class column.
 *
 * @example
 * const melanoma = summarizeClassification(probabilities, labels, 0.5);
 * melanoma.auc; melanoma.specificityAt['0.89'];
 */
export function summarizeClassification(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number = DEFAULT_DECISION_THRESHOLD,
): ClassificationSummary {
  const atThreshold = metricsAtThreshold(scores, labels, threshold);
  return {
    auc: rocAuc(scores, labels),
    averagePrecision: averagePrecision(scores, labels),
    accuracy: atThreshold.accuracy,
    sensitivity: atThreshold.sensitivity,
    specificity: atThreshold.specificity,
    specificityAt: {
      '0.82': specificityAtSensitivity(scores, labels, 0.82),
      '0.89': specificityAtSensitivity(scores, labels, 0.89),
      '0.95': specificityAtSensitivity(scores, labels, 0.95),
    },
  };
}
