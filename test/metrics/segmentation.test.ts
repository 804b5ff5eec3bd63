import {
  binarizeValues,
  confusionCounts,
  dice,
  jaccard,
  pixelAccuracy,
  segmentationScores,
  sensitivity,
  specificity,
  summarizeSegmentation,
  thresholdedJaccard,
} from '../../src/metrics/index.js';

const u8 = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('binarizeValues', () => {
  it('maps values strictly above 128 to 1 and the rest to 0', () => {
    expect(binarizeValues(u8(0, 1, 128, 129, 255))).toEqual(u8(0, 0, 0, 1, 1));
  });

  it('uses a custom threshold when given one', () => {
    expect(binarizeValues(u8(0, 1, 2, 200), 1)).toEqual(u8(0, 0, 1, 1));
  });
});

describe('confusionCounts', () => {
  it('counts each pixel into TP, FP, FN or TN', () => {
    // Prepare: pixel-wise (pred, truth) = (1,1) (1,1) (1,0) (0,1) (0,0) x4
    const predicted = u8(1, 1, 1, 0, 0, 0, 0, 0);
    const truth = u8(1, 1, 0, 1, 0, 0, 0, 0);

    // Act
    const counts = confusionCounts(predicted, truth);

    // Assess
    expect(counts).toEqual({ truePositive: 2, falsePositive: 1, falseNegative: 1, trueNegative: 4 });
  });

  it('rejects masks of different sizes', () => {
    expect(() => confusionCounts(u8(0, 1), u8(0, 1, 1))).toThrow(RangeError);
  });

  it('rejects a mask that was not binarised', () => {
    expect(() => confusionCounts(u8(0, 255), u8(0, 1))).toThrow(/binarize/);
  });

  it('rejects empty masks', () => {
    expect(() => confusionCounts(u8(), u8())).toThrow(/no pixels/);
  });
});

describe('per-image scores', () => {
  // TP 2, FP 1, FN 1, TN 4 (8 pixels)
  const counts = { truePositive: 2, falsePositive: 1, falseNegative: 1, trueNegative: 4 };

  it('computes Jaccard as TP / (TP + FP + FN)', () => {
    expect(jaccard(counts)).toBe(0.5); // 2 / (2 + 1 + 1)
  });

  it('computes Dice as 2TP / (2TP + FP + FN)', () => {
    expect(dice(counts)).toBeCloseTo(2 / 3, 12); // 4 / (4 + 1 + 1)
  });

  it('computes pixel accuracy as (TP + TN) / all pixels', () => {
    expect(pixelAccuracy(counts)).toBe(0.75); // (2 + 4) / 8
  });

  it('computes sensitivity as TP / (TP + FN)', () => {
    expect(sensitivity(counts)).toBeCloseTo(2 / 3, 12); // 2 / (2 + 1)
  });

  it('computes specificity as TN / (TN + FP)', () => {
    expect(specificity(counts)).toBe(0.8); // 4 / (4 + 1)
  });

  it('scores two empty masks as perfect on every score', () => {
    const bothEmpty = confusionCounts(u8(0, 0, 0, 0), u8(0, 0, 0, 0));
    expect(segmentationScores(bothEmpty)).toEqual({
      jaccard: 1,
      dice: 1,
      accuracy: 1,
      sensitivity: 1,
      specificity: 1,
    });
  });

  it('scores a prediction on an empty ground truth as Jaccard 0 with sensitivity 1', () => {
    // truth empty, prediction 1 of 4 pixels: TP 0, FP 1, FN 0, TN 3
    const spurious = confusionCounts(u8(1, 0, 0, 0), u8(0, 0, 0, 0));
    expect(segmentationScores(spurious)).toEqual({
      jaccard: 0, // 0 / (0 + 1 + 0)
      dice: 0, // 0 / (0 + 1 + 0)
      accuracy: 0.75, // 3 / 4
      sensitivity: 1, // no positives to miss: convention
      specificity: 0.75, // 3 / (3 + 1)
    });
  });

  it('scores an empty prediction on a non-empty ground truth as Jaccard 0 and sensitivity 0', () => {
    // truth 2 of 4 pixels, prediction empty: TP 0, FP 0, FN 2, TN 2
    const missed = confusionCounts(u8(0, 0, 0, 0), u8(1, 1, 0, 0));
    expect(segmentationScores(missed)).toEqual({
      jaccard: 0,
      dice: 0,
      accuracy: 0.5,
      sensitivity: 0,
      specificity: 1, // 2 / (2 + 0)
    });
  });

  it('scores specificity 1 when the ground truth covers the whole image', () => {
    // truth all foreground, prediction 3 of 4: TP 3, FP 0, FN 1, TN 0
    expect(specificity(confusionCounts(u8(1, 1, 1, 0), u8(1, 1, 1, 1)))).toBe(1);
  });
});

describe('thresholdedJaccard', () => {
  it('counts per-image values below 0.65 as 0 before averaging', () => {
    // (0.9 + 0 + 0.65) / 3: 0.6 < 0.65 → 0; 0.65 is kept
    expect(thresholdedJaccard([0.9, 0.6, 0.65])).toBeCloseTo(1.55 / 3, 12);
  });

  it('is null without images', () => {
    expect(thresholdedJaccard([])).toBeNull();
  });
});

describe('summarizeSegmentation', () => {
  it('averages each score over images', () => {
    // Prepare: image A = TP 2 FP 1 FN 1 TN 4; image B = both empty (all scores 1)
    const a = segmentationScores({ truePositive: 2, falsePositive: 1, falseNegative: 1, trueNegative: 4 });
    const b = segmentationScores({ truePositive: 0, falsePositive: 0, falseNegative: 0, trueNegative: 4 });

    // Act
    const summary = summarizeSegmentation([a, b]);

    // Assess
    expect(summary.jaccard).toBeCloseTo(0.75, 12); // (0.5 + 1) / 2
    expect(summary.thresholdedJaccard).toBeCloseTo(0.5, 12); // (0 + 1) / 2: 0.5 < 0.65
    expect(summary.dice).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(summary.accuracy).toBeCloseTo(0.875, 12); // (0.75 + 1) / 2
    expect(summary.sensitivity).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(summary.specificity).toBeCloseTo(0.9, 12); // (0.8 + 1) / 2
  });

  it('is all null without images', () => {
    expect(summarizeSegmentation([])).toEqual({
      jaccard: null,
      thresholdedJaccard: null,
      dice: null,
      accuracy: null,
      sensitivity: null,
      specificity: null,
    });
  });
});
