import {
  averagePrecision,
  metricsAtThreshold,
  rocAuc,
  rocCurve,
  specificityAtSensitivity,
  summarizeClassification,
} from '../../src/metrics/index.js';
import type { RocPoint } from '../../src/metrics/index.js';

/** Trapezoidal area under a ROC curve, to cross-check the rank-based AUC. */
function trapezoidArea(curve: readonly RocPoint[]): number {
  let area = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1] as RocPoint;
    const b = curve[i] as RocPoint;
    area += ((b.falsePositiveRate - a.falsePositiveRate) * (b.truePositiveRate + a.truePositiveRate)) / 2;
  }
  return area;
}

describe('rocAuc', () => {
  it('is 1 when every positive outscores every negative', () => {
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])).toBe(1);
  });

  it('is 0 when every negative outscores every positive', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
  });

  it('is 0.5 when all scores are tied', () => {
    // every one of the 2 x 3 pairs is a tie worth 1/2
    expect(rocAuc([0.4, 0.4, 0.4, 0.4, 0.4], [1, 1, 0, 0, 0])).toBe(0.5);
  });

  it('counts a tied positive-negative pair as one half', () => {
    // positives 0.9, 0.5; negatives 0.5, 0.1. Pairs: (0.9,0.5)=1 (0.9,0.1)=1 (0.5,0.5)=1/2 (0.5,0.1)=1
    // AUC = 3.5 / 4 = 0.875
    expect(rocAuc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])).toBe(0.875);
  });

  it('equals the trapezoidal area under the ROC curve', () => {
    const scores = [0.95, 0.9, 0.9, 0.7, 0.6, 0.6, 0.6, 0.3, 0.2, 0.1];
    const labels = [1, 0, 1, 1, 0, 1, 0, 0, 1, 0];
    expect(rocAuc(scores, labels)).toBeCloseTo(trapezoidArea(rocCurve(scores, labels) ?? []), 12);
  });

  it('is null without positives', () => {
    expect(rocAuc([0.3, 0.7], [0, 0])).toBeNull();
  });

  it('is null without negatives', () => {
    expect(rocAuc([0.3, 0.7], [1, 1])).toBeNull();
  });

  it('rejects labels other than 0 and 1', () => {
    expect(() => rocAuc([0.3, 0.7], [0, 2])).toThrow(/label 2/);
  });

  it('rejects scores that are not finite', () => {
    expect(() => rocAuc([Number.NaN, 0.7], [0, 1])).toThrow(/finite/);
  });
});

describe('rocCurve', () => {
  it('has one point per distinct score, from (0, 0) at Infinity to (1, 1)', () => {
    // sorted: 0.8 P, 0.5 P, 0.5 N, 0.2 N (2 positives, 2 negatives)
    expect(rocCurve([0.5, 0.8, 0.2, 0.5], [0, 1, 0, 1])).toEqual([
      { threshold: Infinity, falsePositiveRate: 0, truePositiveRate: 0 },
      { threshold: 0.8, falsePositiveRate: 0, truePositiveRate: 0.5 }, // 1/2 positives
      { threshold: 0.5, falsePositiveRate: 0.5, truePositiveRate: 1 }, // tie: both join at once
      { threshold: 0.2, falsePositiveRate: 1, truePositiveRate: 1 },
    ]);
  });

  it('is null without both classes', () => {
    expect(rocCurve([0.1, 0.2], [0, 0])).toBeNull();
  });
});

describe('averagePrecision', () => {
  it('sums recall steps times precision over descending scores', () => {
    // 0.9 P: recall 1/2, precision 1/1; 0.8 N: recall unchanged; 0.7 P: recall 1, precision 2/3
    // AP = (1/2 - 0) * 1 + (1 - 1/2) * 2/3 = 1/2 + 1/3 = 5/6
    expect(averagePrecision([0.9, 0.8, 0.7], [1, 0, 1])).toBeCloseTo(5 / 6, 12);
  });

  it('treats tied scores as one threshold', () => {
    // 0.8 {P, N}: recall 1/2, precision 1/2; 0.3 P: recall 1, precision 2/3
    // AP = 1/2 * 1/2 + 1/2 * 2/3 = 1/4 + 1/3 = 7/12
    expect(averagePrecision([0.8, 0.8, 0.3], [1, 0, 1])).toBeCloseTo(7 / 12, 12);
  });

  it('is 1 for a perfect ranking', () => {
    expect(averagePrecision([0.9, 0.8, 0.1], [1, 1, 0])).toBe(1);
  });

  it('is null without positives', () => {
    expect(averagePrecision([0.9, 0.1], [0, 0])).toBeNull();
  });
});

describe('metricsAtThreshold', () => {
  it('predicts positive when the score is at or above the threshold', () => {
    // 0.5 >= 0.5 → positive. P: 0.7 (TP), 0.4 (FN); N: 0.5 (FP), 0.2 (TN)
    expect(metricsAtThreshold([0.7, 0.4, 0.5, 0.2], [1, 1, 0, 0])).toEqual({
      accuracy: 0.5, // (1 + 1) / 4
      sensitivity: 0.5, // 1 / 2
      specificity: 0.5, // 1 / 2
    });
  });

  it('uses the given threshold', () => {
    // t = 0.3: 0.7 TP, 0.4 TP, 0.5 FP, 0.2 TN
    expect(metricsAtThreshold([0.7, 0.4, 0.5, 0.2], [1, 1, 0, 0], 0.3)).toEqual({
      accuracy: 0.75,
      sensitivity: 1,
      specificity: 0.5,
    });
  });

  it('leaves sensitivity null without positives', () => {
    expect(metricsAtThreshold([0.7, 0.2], [0, 0])).toEqual({
      accuracy: 0.5,
      sensitivity: null,
      specificity: 0.5,
    });
  });
});

describe('specificityAtSensitivity', () => {
  // positives 0.9, 0.8, 0.3; negatives 0.7, 0.4, 0.2, 0.1
  // ROC (threshold: tpr, fpr): 0.9: 1/3, 0; 0.8: 2/3, 0; 0.7: 2/3, 1/4; 0.4: 2/3, 2/4; 0.3: 1, 2/4; ...
  const scores = [0.9, 0.8, 0.3, 0.7, 0.4, 0.2, 0.1];
  const labels = [1, 1, 1, 0, 0, 0, 0];

  it('takes the best specificity among points reaching the target sensitivity', () => {
    // tpr >= 0.82 first at threshold 0.3 (tpr 1, fpr 2/4): specificity 1 - 1/2 = 0.5
    expect(specificityAtSensitivity(scores, labels, 0.82)).toBe(0.5);
  });

  it('accepts a point whose sensitivity equals the target exactly', () => {
    // tpr 2/3 >= 2/3 at threshold 0.8 with fpr 0: specificity 1
    expect(specificityAtSensitivity(scores, labels, 2 / 3)).toBe(1);
  });

  it('is null without both classes', () => {
    expect(specificityAtSensitivity([0.2, 0.4], [1, 1], 0.82)).toBeNull();
  });

  it('rejects a target outside (0, 1]', () => {
    expect(() => specificityAtSensitivity(scores, labels, 82)).toThrow(RangeError);
  });
});

describe('summarizeClassification', () => {
  it('reports every ISIC 2017 score of one class column', () => {
    // same 7 samples as above; at t = 0.5: TP 0.9, 0.8; FN 0.3; FP 0.7; TN 0.4, 0.2, 0.1
    // AUC: positive 0.9 beats 4, 0.8 beats 4, 0.3 beats 2 → 10 / 12
    // AP: 0.9 P (1/1), 0.8 P (2/2), 0.7 N, 0.4 N, 0.3 P (3/5) → (1 + 1 + 3/5) / 3 = 13/15
    const summary = summarizeClassification([0.9, 0.8, 0.3, 0.7, 0.4, 0.2, 0.1], [1, 1, 1, 0, 0, 0, 0]);
    expect(summary.auc).toBeCloseTo(10 / 12, 12);
    expect(summary.averagePrecision).toBeCloseTo(13 / 15, 12);
    expect(summary.accuracy).toBeCloseTo(5 / 7, 12);
    expect(summary.sensitivity).toBeCloseTo(2 / 3, 12);
    expect(summary.specificity).toBe(0.75);
    expect(summary.specificityAt).toEqual({ '0.82': 0.5, '0.89': 0.5, '0.95': 0.5 });
  });
});
