import { maskAgreement, maxAbsDifference } from '../../bench/worker/parity.js';

it('maxAbsDifference: the largest paired difference', () => {
  expect(maxAbsDifference([0.1, 0.5, 0.9], [0.1, 0.52, 0.85])).toBeCloseTo(0.05, 12);
  expect(maxAbsDifference([], [])).toBe(0);
  expect(() => maxAbsDifference([1], [])).toThrow('score lists differ in length: 1 vs 0');
});

it('maskAgreement: pixel agreement and lesion Jaccard (hand-computed)', () => {
  // a: lesion at 0,1,2; b: lesion at 1,2,3; 6 pixels → agree at 1,2,4,5 = 4/6; Jaccard 2/4
  const a = Uint8Array.from([255, 255, 255, 0, 0, 0]);
  const b = Uint8Array.from([0, 1, 255, 255, 0, 0]);
  expect(maskAgreement(a, b)).toEqual({ pixelAgreement: 4 / 6, jaccard: 0.5 });
  expect(maskAgreement(new Uint8Array(4), new Uint8Array(4))).toEqual({ pixelAgreement: 1, jaccard: 1 });
  expect(() => maskAgreement(a, new Uint8Array(2))).toThrow('masks differ in size: 6 vs 2 pixels');
});
