// Pure comparisons of two analyses of the same upload (e.g. CUDA vs CPU provider): score
// differences and mask agreement, for the worker benchmark's parity section.

/** Largest absolute difference over paired scores; 0 for no pairs. */
export function maxAbsDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`score lists differ in length: ${a.length} vs ${b.length}`);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
}

/**
 * Agreement of two binary masks of the same size (any non-zero byte = lesion): the fraction of
 * pixels that agree, and the Jaccard index of the lesion pixels (1 when both are empty).
 */
export function maskAgreement(a: Uint8Array, b: Uint8Array): { pixelAgreement: number; jaccard: number } {
  if (a.length !== b.length) throw new Error(`masks differ in size: ${a.length} vs ${b.length} pixels`);
  let same = 0;
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! > 0;
    const y = b[i]! > 0;
    if (x === y) same++;
    if (x && y) both++;
    if (x || y) either++;
  }
  return { pixelAgreement: a.length ? same / a.length : 1, jaccard: either ? both / either : 1 };
}
