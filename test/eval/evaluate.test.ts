import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadIsic2017Split } from '../../src/eval/dataset.js';
import type { EvalDataset } from '../../src/eval/dataset.js';
import { EvaluationError, evaluateDataset, readGroundTruthMask } from '../../src/eval/evaluate.js';
import type { Predictor } from '../../src/eval/evaluate.js';
import { ConfigError } from '../../src/errors.js';
import {
  FakePredictor,
  HEIGHT,
  SYNTHETIC_IMAGES,
  WIDTH,
  rectangleMask,
  writeSyntheticIsicSplit,
} from './synthetic-dataset.js';

// Expected values for SYNTHETIC_IMAGES (see synthetic-dataset.ts), computed by hand.
//
// Segmentation, 3 images with masks (768 pixels each):
//   0000001: J 1, Dice 1, acc 1, sens 1, spec 1
//   0000002: TP 96 FP 96 FN 0 TN 576 → J 96/192 = 1/2, Dice 192/288 = 2/3, acc 672/768 = 7/8,
//            sens 1, spec 576/672 = 6/7
//   0000003: both empty → all 1
//   means: J 2.5/3 = 5/6; thresholded (1 + 0 + 1)/3 = 2/3; Dice (8/3)/3 = 8/9; acc (23/8)/3 = 23/24;
//          sens 1; spec (20/7)/3 = 20/21
//
// Melanoma, 4 labelled images: positives 0000001 (0.9), 0000004 (0.5); negatives 0000002 (0.2), 0000003 (0.6)
//   AUC: (0.9>0.2) + (0.9>0.6) + (0.5>0.2) + (0.5<0.6 → 0) = 3/4
//   AP: 0.9 P (prec 1), 0.6 N, 0.5 P (prec 2/3), 0.2 N → (1 + 2/3) / 2 = 5/6
//   at 0.5 (>=): TP 0.9, TP 0.5, FP 0.6, TN 0.2 → acc 3/4, sens 1, spec 1/2
//   spec@sens: tpr >= 0.82 first at threshold 0.5 with fpr 1/2 → 1/2 at 82, 89 and 95 %
// Seborrheic keratosis: positive 0000002 (0.7); negatives 0.1, 0.7 (tie), 0.3
//   AUC: 1 + 1/2 + 1 over 3 pairs = 5/6
//   AP: 0.7 {P, N} → recall 1 at precision 1/2 → 1/2
//   at 0.5: TP 0.7, FP 0.7, TN 0.1, TN 0.3 → acc 3/4, sens 1, spec 2/3
//   spec@sens: tpr 1 first at 0.7 with fpr 1/3 → 2/3
// meanAuc = (3/4 + 5/6) / 2 = 19/24

describe('evaluateDataset on a synthetic dataset', () => {
  let root: string;
  let dataset: EvalDataset;

  beforeAll(async () => {
    root = await writeSyntheticIsicSplit('Validation');
    dataset = await loadIsic2017Split(root, 'Validation');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('computes the mean segmentation scores at the ground-truth resolution', async () => {
    const { metrics } = await evaluateDataset(dataset, new FakePredictor());
    expect(metrics.n).toBe(4);
    expect(metrics.segmentation.jaccard).toBeCloseTo(5 / 6, 12);
    expect(metrics.segmentation.thresholdedJaccard).toBeCloseTo(2 / 3, 12);
    expect(metrics.segmentation.dice).toBeCloseTo(8 / 9, 12);
    expect(metrics.segmentation.accuracy).toBeCloseTo(23 / 24, 12);
    expect(metrics.segmentation.sensitivity).toBe(1);
    expect(metrics.segmentation.specificity).toBeCloseTo(20 / 21, 12);
  });

  it('computes the melanoma scores', async () => {
    const { metrics } = await evaluateDataset(dataset, new FakePredictor());
    const melanoma = metrics.classification.melanoma;
    expect(melanoma.auc).toBe(0.75);
    expect(melanoma.averagePrecision).toBeCloseTo(5 / 6, 12);
    expect([melanoma.accuracy, melanoma.sensitivity, melanoma.specificity]).toEqual([0.75, 1, 0.5]);
    expect(melanoma.specificityAt).toEqual({ '0.82': 0.5, '0.89': 0.5, '0.95': 0.5 });
  });

  it('computes the seborrheic keratosis scores', async () => {
    const { metrics } = await evaluateDataset(dataset, new FakePredictor());
    const keratosis = metrics.classification.seborrheicKeratosis;
    expect(keratosis.auc).toBeCloseTo(5 / 6, 12);
    expect(keratosis.averagePrecision).toBe(0.5);
    expect(keratosis.accuracy).toBe(0.75);
    expect(keratosis.sensitivity).toBe(1);
    expect(keratosis.specificity).toBeCloseTo(2 / 3, 12);
    expect(keratosis.specificityAt['0.95']).toBeCloseTo(2 / 3, 12);
  });

  it('reports the mean of the two AUCs', async () => {
    const { metrics } = await evaluateDataset(dataset, new FakePredictor());
    expect(metrics.classification.meanAuc).toBeCloseTo(19 / 24, 12);
  });

  it('has exactly the documented JSON keys', async () => {
    const { metrics } = await evaluateDataset(dataset, new FakePredictor());
    const json = JSON.parse(JSON.stringify(metrics)) as Record<string, Record<string, unknown>>;
    expect(Object.keys(json)).toEqual(['n', 'segmentation', 'classification']);
    expect(Object.keys(json.segmentation ?? {})).toEqual([
      'jaccard',
      'thresholdedJaccard',
      'dice',
      'accuracy',
      'sensitivity',
      'specificity',
    ]);
    expect(Object.keys(json.classification ?? {})).toEqual([
      'melanoma',
      'seborrheicKeratosis',
      'meanAuc',
      'decisionThresholds',
    ]);
    expect(Object.keys(json.classification?.melanoma ?? {})).toEqual([
      'auc',
      'averagePrecision',
      'accuracy',
      'sensitivity',
      'specificity',
      'specificityAt',
    ]);
  });

  it('asks for masks at the ground-truth size, and for none where there is no ground truth', async () => {
    const predictor = new FakePredictor();
    await evaluateDataset(dataset, predictor);
    const sizes = new Map(predictor.calls.map((c) => [path.parse(c.imagePath).name, c.maskSize]));
    expect(sizes.get('ISIC_0000001')).toEqual({ width: WIDTH, height: HEIGHT });
    expect(sizes.get('ISIC_0000004')).toBeNull();
  });

  it('keeps per-image results in dataset order', async () => {
    const { perImage } = await evaluateDataset(dataset, new FakePredictor());
    expect(perImage.map((p) => [p.id, p.jaccard])).toEqual([
      ['ISIC_0000001', 1],
      ['ISIC_0000002', 0.5],
      ['ISIC_0000003', 1],
      ['ISIC_0000004', null],
    ]);
    expect(perImage[1]).toMatchObject({
      dice: 2 / 3,
      probabilities: { melanoma: 0.2, seborrheic_keratosis: 0.7 },
      labels: { melanoma: 0, seborrheic_keratosis: 1 },
    });
  });

  it('keeps the masks of only the lowest-Jaccard images, ties broken by id', async () => {
    const { worstCases } = await evaluateDataset(dataset, new FakePredictor(), { worstCaseCount: 2 });
    expect(worstCases.map((w) => [w.id, w.jaccard])).toEqual([
      ['ISIC_0000002', 0.5],
      ['ISIC_0000001', 1],
    ]);
    expect(worstCases[0]?.predictedMask).toEqual(rectangleMask(0, 16, 0, 12));
    expect(worstCases[0]?.truthMask).toEqual(rectangleMask(0, 8, 0, 12));
  });

  it('reports progress after every image', async () => {
    const progress: [number, number][] = [];
    await evaluateDataset(dataset, new FakePredictor(), {
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  it('runs at most `concurrency` predictions at once', async () => {
    // 100 ms per prediction: long enough for all three workers to be waiting on it at once
    const predictor = new FakePredictor(SYNTHETIC_IMAGES, 100);
    await evaluateDataset(dataset, predictor, { concurrency: 3 });
    expect(predictor.maxInFlight).toBe(3);
  });

  it('applies a per-class decision threshold', async () => {
    // melanoma at 0.55: 0.5 becomes a false negative → TP 0.9, FN 0.5, FP 0.6, TN 0.2
    const { metrics } = await evaluateDataset(dataset, new FakePredictor(), {
      thresholds: { melanoma: 0.55 },
    });
    expect(metrics.classification.melanoma.sensitivity).toBe(0.5);
    expect(metrics.classification.melanoma.accuracy).toBe(0.5);
    // the thresholds the figures are at are part of the metrics (metrics.json, --json)
    expect(metrics.classification.decisionThresholds).toEqual({ melanoma: 0.55, seborrheicKeratosis: 0.5 });
    expect(metrics.classification.seborrheicKeratosis.accuracy).toBe(0.75);
  });

  it('leaves AUC null for a class without positives and averages the other', async () => {
    const noKeratosis: EvalDataset = {
      name: 'no SK',
      samples: dataset.samples.map((s) => ({
        ...s,
        labels: s.labels && { melanoma: s.labels.melanoma, seborrheic_keratosis: 0 as const },
      })),
    };
    const { metrics } = await evaluateDataset(noKeratosis, new FakePredictor());
    expect(metrics.classification.seborrheicKeratosis.auc).toBeNull();
    expect(metrics.classification.seborrheicKeratosis.sensitivity).toBeNull();
    expect(metrics.classification.meanAuc).toBe(0.75);
  });

  it('leaves segmentation null when no image has a mask', async () => {
    const noMasks: EvalDataset = {
      name: 'no masks',
      samples: dataset.samples.map((s) => ({ ...s, maskPath: null })),
    };
    const { metrics, worstCases } = await evaluateDataset(noMasks, new FakePredictor());
    expect(metrics.segmentation.jaccard).toBeNull();
    expect(worstCases).toEqual([]);
  });

  it('names the image whose predicted mask has the wrong size', async () => {
    // only ISIC_0000001 is wrong, so the message names it whatever order the pool runs in
    const predictor: Predictor = {
      predict: async (imagePath, size) => ({
        probabilities: { melanoma: 0.5, seborrheic_keratosis: 0.5 },
        mask: imagePath.includes('ISIC_0000001')
          ? new Uint8Array(10)
          : new Uint8Array(size!.width * size!.height),
      }),
    };
    await expect(evaluateDataset(dataset, predictor)).rejects.toThrow(
      /ISIC_0000001: mask has 10 pixels, expected 32x24 = 768/,
    );
  });

  it('rejects a predicted mask that is not 0/1', async () => {
    const predictor: Predictor = {
      predict: async () => ({
        probabilities: { melanoma: 0.5, seborrheic_keratosis: 0.5 },
        mask: new Uint8Array(WIDTH * HEIGHT).fill(255),
      }),
    };
    await expect(evaluateDataset(dataset, predictor)).rejects.toThrow(
      /mask value 255 at pixel 0 is not 0 or 1/,
    );
  });

  it('rejects a probability outside [0, 1]', async () => {
    const predictor: Predictor = {
      predict: async (_, size) => ({
        probabilities: { melanoma: 2.3, seborrheic_keratosis: 0.5 },
        mask: size && new Uint8Array(size.width * size.height),
      }),
    };
    await expect(evaluateDataset(dataset, predictor)).rejects.toThrow(/probability of melanoma is 2.3/);
  });

  it('wraps a predictor failure with the image id', async () => {
    const predictor: Predictor = {
      predict: async () => {
        throw new Error('session closed');
      },
    };
    const error = await evaluateDataset(dataset, predictor, { concurrency: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvaluationError);
    expect((error as EvaluationError).details.sampleId).toBe('ISIC_0000001');
    expect((error as EvaluationError).message).toBe('prediction failed for ISIC_0000001: session closed');
  });

  it('rejects a concurrency below 1', async () => {
    await expect(evaluateDataset(dataset, new FakePredictor(), { concurrency: 0 })).rejects.toThrow(
      ConfigError,
    );
  });
});

describe('readGroundTruthMask', () => {
  it('reads a grey PNG as a 0/1 mask at its own size', async () => {
    const root = await writeSyntheticIsicSplit('Validation', SYNTHETIC_IMAGES.slice(1, 2));
    const file = path.join(root, 'ISIC-2017_Validation_Part1_GroundTruth', 'ISIC_0000002_segmentation.png');
    const { mask, width, height } = await readGroundTruthMask(file);
    expect([width, height]).toEqual([WIDTH, HEIGHT]);
    expect(mask).toEqual(rectangleMask(0, 8, 0, 12));
    await rm(root, { recursive: true, force: true });
  });

  it('names the file it cannot read', async () => {
    await expect(readGroundTruthMask('/no/such/mask.png')).rejects.toThrow(/\/no\/such\/mask\.png/);
  });
});
