import type { ClassContract } from '../../src/model/contract.js';
import { calibratedProbability, classify } from '../../src/processing/classify.js';

const operatingPoint = { sensitivity: 0.9, specificity: 0.6, split: 'Validation', targetSensitivity: 0.89 };
const classes: ClassContract[] = [
  { id: 'melanoma', label: 'Melanoma', temperature: 2, threshold: 0.5, operatingPoint },
  {
    id: 'seborrheic_keratosis',
    label: 'Seborrheic keratosis',
    temperature: 1,
    threshold: 0.3,
    operatingPoint: { ...operatingPoint, sensitivity: 0.8 },
  },
];

describe('calibratedProbability', () => {
  it('divides the logit by the temperature before the sigmoid', () => {
    // sigmoid(2 / 2) = sigmoid(1) = 0.7310585786300049
    expect(calibratedProbability(2, 2, 'logits')).toBeCloseTo(0.7310585786300049, 15);
  });

  it('passes probabilities through unchanged', () => {
    expect(calibratedProbability(0.3, 2, 'probabilities')).toBe(0.3);
  });
});

describe('classify', () => {
  it('returns one result per class in contract order', () => {
    // melanoma: sigmoid(-2 / 2) = 0.2689 < 0.5 → negative; SK: sigmoid(0) = 0.5 >= 0.3 → positive
    const out = classify(Float32Array.of(-2, 0), classes, 'logits');
    expect(out.map((c) => c.id)).toEqual(['melanoma', 'seborrheic_keratosis']);
    expect(out[0]).toEqual({
      id: 'melanoma',
      label: 'Melanoma',
      probability: expect.closeTo(0.2689414213699951, 15),
      threshold: 0.5,
      positive: false,
      operatingPoint,
    });
    expect(out[1]!.probability).toBe(0.5);
    expect(out[1]!.positive).toBe(true);
    expect(out[1]!.operatingPoint.sensitivity).toBe(0.8);
  });

  it('is positive when the probability equals the threshold (>=)', () => {
    // logit 0 → exactly 0.5 = melanoma's threshold
    expect(classify([0, -10], classes, 'logits')[0]!.positive).toBe(true);
  });

  it('is negative just below the threshold', () => {
    expect(classify([0.4999999, 0.2999999], classes, 'probabilities').map((c) => c.positive)).toEqual([
      false,
      false,
    ]);
  });
});
