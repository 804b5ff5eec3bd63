/**
 * Per-image binary segmentation scores, as in the ISIC 2017 Part 1 challenge (Codella et al. 2017,
 * arXiv:1710.05006): masks are binarised at `> 128`, each image is scored on its own, and the
 * headline is the mean of the per-image Jaccard indices.
 *
 * Division-by-zero conventions follow the official scorer (ImageMarkup/isic-challenge-scoring,
 * `metrics.py`): a ratio whose denominator is empty scores 1, because there was nothing to get
 * wrong there and the error already shows in the other ratios.
 * - Jaccard and Dice: both masks empty → 1.
 * - Sensitivity: ground truth empty (TP + FN = 0) → 1; a spurious prediction on such an image is
 *   still penalised by Jaccard = 0 and by specificity.
 * - Specificity: ground truth covers every pixel (TN + FP = 0) → 1.
 *
 * Pure functions, no I/O.
 */
export { binarizeValues, MASK_THRESHOLD } from '../processing/mask.js';

/** Pixel counts of one prediction against its ground truth. */
export interface ConfusionCounts {
  /** Foreground in both. */
  readonly truePositive: number;
  /** Foreground in the prediction only. */
  readonly falsePositive: number;
  /** Foreground in the ground truth only. */
  readonly falseNegative: number;
  /** Background in both. */
  readonly trueNegative: number;
}

/** The five per-image scores of ISIC 2017 Part 1. */
export interface SegmentationScores {
  readonly jaccard: number;
  readonly dice: number;
  readonly accuracy: number;
  readonly sensitivity: number;
  readonly specificity: number;
}

/** Means over images, plus the 2018 thresholded Jaccard; `null` when no image was scored. */
export interface SegmentationSummary {
  readonly jaccard: number | null;
  readonly thresholdedJaccard: number | null;
  readonly dice: number | null;
  readonly accuracy: number | null;
  readonly sensitivity: number | null;
  readonly specificity: number | null;
}

/** The ISIC 2018 Part 1 cut-off: a per-image Jaccard below it counts as 0. */
export const THRESHOLDED_JACCARD_CUTOFF = 0.65;

/**
 * Count TP/FP/FN/TN of a predicted 0/1 mask against a ground-truth 0/1 mask of the same size.
 * Binarise 0..255 masks with `binarizeValues` first: any value other than 0 or 1 throws, so a
 * forgotten binarisation fails loudly instead of scoring anti-aliased edges as foreground.
 *
 * @throws RangeError when the lengths differ, a mask is empty, or a value is not 0 or 1.
 * @example
 * confusionCounts(Uint8Array.of(1, 1, 0, 0), Uint8Array.of(1, 0, 1, 0));
 * // { truePositive: 1, falsePositive: 1, falseNegative: 1, trueNegative: 1 }
 */
export function confusionCounts(predicted: Uint8Array, truth: Uint8Array): ConfusionCounts {
  if (predicted.length !== truth.length) {
    throw new RangeError(
      `mask sizes differ: prediction has ${predicted.length} pixels, ground truth ${truth.length}`,
    );
  }
  if (truth.length === 0) throw new RangeError('masks have no pixels');
  let truePositive = 0;
  let falsePositive = 0;
  let falseNegative = 0;
  let trueNegative = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i] ?? 0;
    const t = truth[i] ?? 0;
    if (p > 1 || t > 1) {
      const where = p > 1 ? 'prediction' : 'ground truth';
      throw new RangeError(
        `${where} value ${p > 1 ? p : t} at pixel ${i} is not 0 or 1; binarizeValues() it first`,
      );
    }
    if (t === 1) {
      if (p === 1) truePositive++;
      else falseNegative++;
    } else if (p === 1) falsePositive++;
    else trueNegative++;
  }
  return { truePositive, falsePositive, falseNegative, trueNegative };
}

function ratioOrOne(numerator: number, denominator: number): number {
  return denominator === 0 ? 1 : numerator / denominator;
}

/**
 * Jaccard index TP / (TP + FP + FN); 1 when both masks are empty.
 *
 * @example
 * jaccard({ truePositive: 2, falsePositive: 1, falseNegative: 1, trueNegative: 4 }); // 0.5
 */
export function jaccard(c: ConfusionCounts): number {
  return ratioOrOne(c.truePositive, c.truePositive + c.falsePositive + c.falseNegative);
}

/**
 * Dice coefficient 2TP / (2TP + FP + FN); 1 when both masks are empty.
 *
 * @example
 * dice({ truePositive: 2, falsePositive: 1, falseNegative: 1, trueNegative: 4 }); // 4 / 6
 */
export function dice(c: ConfusionCounts): number {
  return ratioOrOne(2 * c.truePositive, 2 * c.truePositive + c.falsePositive + c.falseNegative);
}

/**
 * Pixel accuracy (TP + TN) / all pixels.
 *
 * @example
 * pixelAccuracy({ truePositive: 2, falsePositive: 1, falseNegative: 1, trueNegative: 4 }); // 0.75
 */
export function pixelAccuracy(c: ConfusionCounts): number {
  const total = c.truePositive + c.falsePositive + c.falseNegative + c.trueNegative;
  return ratioOrOne(c.truePositive + c.trueNegative, total);
}

/**
 * Sensitivity TP / (TP + FN); 1 when the ground truth is empty.
 *
 * @example
 * sensitivity({ truePositive: 3, falsePositive: 0, falseNegative: 1, trueNegative: 4 }); // 0.75
 */
export function sensitivity(c: ConfusionCounts): number {
  return ratioOrOne(c.truePositive, c.truePositive + c.falseNegative);
}

/**
 * Specificity TN / (TN + FP); 1 when the ground truth covers the whole image.
 *
 * @example
 * specificity({ truePositive: 3, falsePositive: 1, falseNegative: 0, trueNegative: 3 }); // 0.75
 */
export function specificity(c: ConfusionCounts): number {
  return ratioOrOne(c.trueNegative, c.trueNegative + c.falsePositive);
}

/**
 * All five per-image scores from one set of counts.
 *
 * @example
 * const scores = segmentationScores(confusionCounts(binarizeValues(predicted255), binarizeValues(truth255)));
 * scores.jaccard; // this image's Jaccard index
 */
export function segmentationScores(c: ConfusionCounts): SegmentationScores {
  return {
    jaccard: jaccard(c),
    dice: dice(c),
    accuracy: pixelAccuracy(c),
    sensitivity: sensitivity(c),
    specificity: specificity(c),
  };
}

/**
 * Arithmetic mean; `null` for an empty list.
 *
 * @example
 * mean([0.5, 1]); // 0.75
 */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * The ISIC 2018 "thresholded Jaccard": per-image values below `cutoff` count as 0, then the mean.
 * `null` for an empty list.
 *
 * @example
 * thresholdedJaccard([0.9, 0.6, 0.65]); // (0.9 + 0 + 0.65) / 3
 */
export function thresholdedJaccard(
  perImageJaccard: readonly number[],
  cutoff: number = THRESHOLDED_JACCARD_CUTOFF,
): number | null {
  return mean(perImageJaccard.map((j) => (j < cutoff ? 0 : j)));
}

/**
 * Mean of each per-image score over images, and the thresholded Jaccard.
 *
 * @example
 * const summary = summarizeSegmentation(images.map((i) => segmentationScores(i.counts)));
 * summary.jaccard; // the ISIC 2017 Part 1 headline
 */
export function summarizeSegmentation(perImage: readonly SegmentationScores[]): SegmentationSummary {
  const jaccards = perImage.map((s) => s.jaccard);
  return {
    jaccard: mean(jaccards),
    thresholdedJaccard: thresholdedJaccard(jaccards),
    dice: mean(perImage.map((s) => s.dice)),
    accuracy: mean(perImage.map((s) => s.accuracy)),
    sensitivity: mean(perImage.map((s) => s.sensitivity)),
    specificity: mean(perImage.map((s) => s.specificity)),
  };
}
