/**
 * The engine of `lesion eval`: run an injected {@link Predictor} over an {@link EvalDataset}, score
 * every mask at its ground truth's own resolution, and aggregate the ISIC 2017 metrics.
 */
import { ConfigError, ErrorCode, LesionError, isLesionError } from '../errors.js';
import {
  confusionCounts,
  mean,
  segmentationScores,
  summarizeClassification,
  summarizeSegmentation,
} from '../metrics/index.js';
import type { ClassificationSummary, SegmentationScores, SegmentationSummary } from '../metrics/index.js';
import { readMaskPng } from '../image/encode.js';
import { DatasetError } from './dataset.js';
import type { ClassLabels, EvalDataset, EvalSample } from './dataset.js';

/** The two ISIC 2017 Part 3 classes, keyed as in the CSV and in {@link EvalPrediction}. */
export type ClassKey = keyof ClassLabels;

/** What a predictor says about one image's classes. */
export interface EvalPrediction {
  /** Calibrated probabilities in [0, 1]. */
  probabilities: { melanoma: number; seborrheic_keratosis: number };
}

/**
 * The model under evaluation, injected so the engine is testable without one.
 *
 * @example
 * const predictor: Predictor = {
 *   async predict(imagePath, maskSize) {
 *     const out = await analyze(await readFile(imagePath));
 *     return { probabilities: out.probabilities, mask: maskSize && resizeMask(out.mask, maskSize) };
 *   },
 * };
 */
export interface Predictor {
  /** Predict for one image file; returns the binary mask (0/1) resampled to exactly width x height (the ground truth's own resolution) */
  predict(
    imagePath: string,
    maskSize: { width: number; height: number } | null,
  ): Promise<EvalPrediction & { mask: Uint8Array | null }>;
}

/** Options of {@link evaluateDataset}; every field has a default. */
export interface EvaluateOptions {
  /**
   * Images predicted at once.
   * @default 2
   */
  readonly concurrency?: number;
  /** Called after each image with the number done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Decision thresholds on the calibrated probabilities, per class (`probability >= threshold`).
   * @default 0.5 for each class
   */
  readonly thresholds?: Partial<Record<ClassKey, number>>;
  /**
   * How many lowest-Jaccard images keep their masks for the worst-cases sheet.
   * @default 12
   */
  readonly worstCaseCount?: number;
}

/** Every headline number: exactly what `lesion eval --json` prints and `metrics.json` holds. */
export interface EvaluationMetrics {
  /** Images evaluated. */
  readonly n: number;
  /** Means over the images that have a ground-truth mask (all `null` if none has). */
  readonly segmentation: SegmentationSummary;
  /** Over the images that have labels. */
  readonly classification: {
    readonly melanoma: ClassificationSummary;
    readonly seborrheicKeratosis: ClassificationSummary;
    /** Mean of the non-null AUCs; `null` if both are. */
    readonly meanAuc: number | null;
    /** The decision thresholds accuracy, sensitivity and specificity are at (`probability >= t`). */
    readonly decisionThresholds: { readonly melanoma: number; readonly seborrheicKeratosis: number };
  };
}

/** One image's outcome, kept for reports (not part of the JSON output). */
export interface PerImageResult {
  readonly id: string;
  readonly imagePath: string;
  /** `null` when the image has no ground-truth mask. */
  readonly jaccard: number | null;
  readonly dice: number | null;
  readonly probabilities: { readonly melanoma: number; readonly seborrheic_keratosis: number };
  readonly labels: ClassLabels | null;
}

/** A low-Jaccard image with both binary (0/1) masks at the ground truth's resolution. */
export interface WorstCase {
  readonly id: string;
  readonly imagePath: string;
  readonly jaccard: number;
  readonly width: number;
  readonly height: number;
  readonly truthMask: Uint8Array;
  readonly predictedMask: Uint8Array;
}

/** What {@link evaluateDataset} returns. */
export interface EvaluationResult {
  readonly metrics: EvaluationMetrics;
  /** In dataset order. */
  readonly perImage: readonly PerImageResult[];
  /** At most `worstCaseCount`, lowest Jaccard first (ties by id). */
  readonly worstCases: readonly WorstCase[];
}

/**
 * Evaluation stopped on one image: the predictor failed or broke its contract (mask missing, of
 * the wrong size or not 0/1; a probability outside [0, 1]). `details.sampleId` names the image.
 *
 * @example
 * catch (e) { if (e instanceof EvaluationError) console.error(e.details.sampleId, e.message) }
 */
export class EvaluationError extends LesionError {
  readonly retryable = false;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options);
  }
}

/** A 0/1 ground-truth mask and its size. */
export interface GroundTruthMask {
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
}

const DEFAULTS = { concurrency: 2, threshold: 0.5, worstCaseCount: 12 } as const;

/**
 * Read a ground-truth PNG as a 0/1 mask (first channel, binarised at `> 128`) at its own size.
 *
 * @throws DatasetError when the file cannot be decoded.
 * @example
 * const { mask, width, height } = await readGroundTruthMask('ISIC_0001769_segmentation.png');
 */
export async function readGroundTruthMask(maskPath: string): Promise<GroundTruthMask> {
  try {
    const { data, width, height } = await readMaskPng(maskPath);
    return { mask: data, width, height };
  } catch (cause) {
    throw new DatasetError(`cannot read ground-truth mask ${maskPath}: ${messageOf(cause)}`, {
      cause,
      details: { maskPath },
    });
  }
}

/**
 * Predict every image, score it against its ground truth and aggregate the ISIC 2017 metrics.
 * Stops at the first failing image.
 *
 * @throws EvaluationError naming the image when the predictor fails or breaks its contract;
 *   DatasetError when a ground-truth mask cannot be read; ConfigError for bad options.
 * @example
 * const dataset = await loadIsic2017Split('../shared/data/isic2017', 'Validation');
 * const result = await evaluateDataset(dataset, predictor, { onProgress: (d, t) => process.stderr.write(`\r${d}/${t}`) });
 * console.log(JSON.stringify(result.metrics, null, 2));
 */
export async function evaluateDataset(
  dataset: EvalDataset,
  predictor: Predictor,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  const worstCaseCount = options.worstCaseCount ?? DEFAULTS.worstCaseCount;
  const thresholds: Record<ClassKey, number> = {
    melanoma: options.thresholds?.melanoma ?? DEFAULTS.threshold,
    seborrheic_keratosis: options.thresholds?.seborrheic_keratosis ?? DEFAULTS.threshold,
  };
  checkOptions(concurrency, worstCaseCount, thresholds);

  const samples = dataset.samples;
  // Only scores are kept per image; masks survive only while among the worst (bounded memory).
  const outcomes: ScoredImage[] = new Array<ScoredImage>(samples.length);
  const worstCases: WorstCase[] = [];
  let done = 0;
  await runPool(samples.length, concurrency, async (index) => {
    const { perImage, scores, worstCase } = await evaluateSample(samples[index] as EvalSample, predictor);
    outcomes[index] = { perImage, scores };
    if (worstCase !== null) keepLowest(worstCases, worstCase, worstCaseCount);
    done++;
    options.onProgress?.(done, samples.length);
  });

  return {
    metrics: aggregate(outcomes, thresholds),
    perImage: outcomes.map((o) => o.perImage),
    worstCases,
  };
}

interface ScoredImage {
  readonly perImage: PerImageResult;
  readonly scores: SegmentationScores | null;
}

interface SampleOutcome extends ScoredImage {
  /** The masks, until {@link keepLowest} decides whether they are among the worst. */
  readonly worstCase: WorstCase | null;
}

async function evaluateSample(sample: EvalSample, predictor: Predictor): Promise<SampleOutcome> {
  const truth = sample.maskPath === null ? null : await readGroundTruthMask(sample.maskPath);
  const maskSize = truth === null ? null : { width: truth.width, height: truth.height };
  let prediction: EvalPrediction & { mask: Uint8Array | null };
  try {
    prediction = await predictor.predict(sample.imagePath, maskSize);
  } catch (cause) {
    throw new EvaluationError(
      isLesionError(cause) ? cause.code : ErrorCode.INFERENCE_FAILED,
      `prediction failed for ${sample.id}: ${messageOf(cause)}`,
      { cause, details: { sampleId: sample.id, imagePath: sample.imagePath } },
    );
  }
  const probabilities = checkProbabilities(sample, prediction.probabilities);

  let scores: SegmentationScores | null = null;
  let worstCase: WorstCase | null = null;
  if (truth !== null) {
    const predictedMask = checkMask(sample, prediction.mask, truth);
    scores = segmentationScores(confusionCounts(predictedMask, truth.mask));
    worstCase = {
      id: sample.id,
      imagePath: sample.imagePath,
      jaccard: scores.jaccard,
      width: truth.width,
      height: truth.height,
      truthMask: truth.mask,
      predictedMask,
    };
  }
  return {
    perImage: {
      id: sample.id,
      imagePath: sample.imagePath,
      jaccard: scores?.jaccard ?? null,
      dice: scores?.dice ?? null,
      probabilities,
      labels: sample.labels,
    },
    scores,
    worstCase,
  };
}

function checkProbabilities(
  sample: EvalSample,
  probabilities: EvalPrediction['probabilities'] | undefined,
): PerImageResult['probabilities'] {
  const melanoma = probabilities?.melanoma;
  const keratosis = probabilities?.seborrheic_keratosis;
  for (const [name, value] of [
    ['melanoma', melanoma],
    ['seborrheic_keratosis', keratosis],
  ] as const) {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw contractError(sample, `probability of ${name} is ${String(value)}, expected a number in [0, 1]`);
    }
  }
  return { melanoma: melanoma as number, seborrheic_keratosis: keratosis as number };
}

function checkMask(sample: EvalSample, mask: Uint8Array | null, truth: GroundTruthMask): Uint8Array {
  if (mask === null)
    throw contractError(sample, 'no mask returned although the image has a ground-truth mask');
  if (mask.length !== truth.width * truth.height) {
    throw contractError(
      sample,
      `mask has ${mask.length} pixels, expected ${truth.width}x${truth.height} = ${truth.width * truth.height}`,
    );
  }
  const bad = mask.findIndex((v) => v > 1);
  if (bad !== -1) throw contractError(sample, `mask value ${mask[bad]} at pixel ${bad} is not 0 or 1`);
  return mask;
}

function contractError(sample: EvalSample, problem: string): EvaluationError {
  return new EvaluationError(
    ErrorCode.CONTRACT_MISMATCH,
    `predictor broke its contract on ${sample.id}: ${problem}`,
    {
      details: { sampleId: sample.id, imagePath: sample.imagePath },
    },
  );
}

/** Insert into `list` (sorted by Jaccard, then id) and drop anything beyond `capacity`. */
function keepLowest(list: WorstCase[], candidate: WorstCase, capacity: number): void {
  const before = (a: WorstCase, b: WorstCase): boolean =>
    a.jaccard < b.jaccard || (a.jaccard === b.jaccard && a.id < b.id);
  let position = list.length;
  while (position > 0 && before(candidate, list[position - 1] as WorstCase)) position--;
  if (position >= capacity) return;
  list.splice(position, 0, candidate);
  if (list.length > capacity) list.length = capacity;
}

function aggregate(
  outcomes: readonly ScoredImage[],
  thresholds: Record<ClassKey, number>,
): EvaluationMetrics {
  const segmented = outcomes.flatMap((o) => (o.scores === null ? [] : [o.scores]));
  const labelled = outcomes.flatMap((o) =>
    o.perImage.labels === null
      ? []
      : [{ probabilities: o.perImage.probabilities, labels: o.perImage.labels }],
  );
  const classify = (key: ClassKey): ClassificationSummary =>
    summarizeClassification(
      labelled.map((l) => l.probabilities[key]),
      labelled.map((l) => l.labels[key]),
      thresholds[key],
    );
  const melanoma = classify('melanoma');
  const seborrheicKeratosis = classify('seborrheic_keratosis');
  const aucs = [melanoma.auc, seborrheicKeratosis.auc].filter((auc): auc is number => auc !== null);
  return {
    n: outcomes.length,
    segmentation: summarizeSegmentation(segmented),
    classification: {
      melanoma,
      seborrheicKeratosis,
      meanAuc: mean(aucs),
      decisionThresholds: {
        melanoma: thresholds.melanoma,
        seborrheicKeratosis: thresholds.seborrheic_keratosis,
      },
    },
  };
}

function checkOptions(
  concurrency: number,
  worstCaseCount: number,
  thresholds: Record<ClassKey, number>,
): void {
  const problems: string[] = [];
  if (!Number.isInteger(concurrency) || concurrency < 1)
    problems.push(`concurrency ${concurrency} is not an integer >= 1`);
  if (!Number.isInteger(worstCaseCount) || worstCaseCount < 0) {
    problems.push(`worstCaseCount ${worstCaseCount} is not an integer >= 0`);
  }
  for (const [key, t] of Object.entries(thresholds)) {
    if (!(t >= 0 && t <= 1)) problems.push(`threshold for ${key} ${t} is not in [0, 1]`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid evaluation options: ${problems.join('; ')}`);
}

/** Run `task(0 … count-1)` with at most `concurrency` in flight; rethrow the first failure. */
async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  const state: { next: number; failure: { error: unknown } | null } = { next: 0, failure: null };
  const worker = async (): Promise<void> => {
    while (state.failure === null && state.next < count) {
      const index = state.next++;
      try {
        await task(index);
      } catch (error) {
        state.failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (state.failure !== null) throw state.failure.error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
