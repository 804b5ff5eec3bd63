/**
 * Image-quality gate: simple statistics on the model-size RGB input plus facts from the mask
 * and the out-of-distribution score. Flags are things a clinician can act on (retake the photo).
 */

export const QualityFlag = {
  NOT_DERMOSCOPIC: 'NOT_DERMOSCOPIC',
  BLURRED: 'BLURRED',
  UNDER_EXPOSED: 'UNDER_EXPOSED',
  OVER_EXPOSED: 'OVER_EXPOSED',
  NO_LESION_FOUND: 'NO_LESION_FOUND',
  LESION_TOUCHES_BORDER: 'LESION_TOUCHES_BORDER',
} as const;
export type QualityFlag = (typeof QualityFlag)[keyof typeof QualityFlag];

/** Flags under which a classification is withheld (still computed, marked withheld). */
export const BLOCKING_FLAGS: readonly QualityFlag[] = [
  QualityFlag.NOT_DERMOSCOPIC,
  QualityFlag.BLURRED,
  QualityFlag.UNDER_EXPOSED,
  QualityFlag.OVER_EXPOSED,
  QualityFlag.NO_LESION_FOUND,
];

export interface ImageStatistics {
  /** Mean luma (Rec. 601) in 0..255. */
  readonly meanLuma: number;
  /** Share of pixels with luma <= 8. */
  readonly darkFraction: number;
  /** Share of pixels with luma >= 247. */
  readonly brightFraction: number;
  /** Variance of the 4-neighbour Laplacian of luma (sharpness; low = blurred). */
  readonly laplacianVariance: number;
}

export interface QualityThresholds {
  readonly minLaplacianVariance: number;
  readonly minMeanLuma: number;
  readonly maxMeanLuma: number;
  readonly maxDarkFraction: number;
  readonly maxBrightFraction: number;
  readonly minLesionAreaFraction: number;
}

/**
 * Bounds set just outside the range of all 2,150 ISIC 2017 Training + Validation images at
 * 256x192 (`scripts/quality-stats.ts`, docs/quality-gate.md): laplacianVariance min 5.1,
 * meanLuma 75.6–239.9, darkFraction max 0.48, brightFraction max 0.45.
 */
export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  minLaplacianVariance: 4,
  minMeanLuma: 40,
  maxMeanLuma: 245,
  maxDarkFraction: 0.6,
  maxBrightFraction: 0.6,
  minLesionAreaFraction: 0.002,
};

/** Luma statistics and sharpness of an interleaved RGB image. */
export function imageStatistics(rgb: Uint8Array, width: number, height: number): ImageStatistics {
  const n = width * height;
  const luma = new Float32Array(n);
  let sum = 0;
  let dark = 0;
  let bright = 0;
  for (let i = 0; i < n; i++) {
    const y = 0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!;
    luma[i] = y;
    sum += y;
    if (y <= 8) dark++;
    if (y >= 247) bright++;
  }
  let lapSum = 0;
  let lapSq = 0;
  let m = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const lap = luma[i - 1]! + luma[i + 1]! + luma[i - width]! + luma[i + width]! - 4 * luma[i]!;
      lapSum += lap;
      lapSq += lap * lap;
      m++;
    }
  }
  const lapMean = m > 0 ? lapSum / m : 0;
  return {
    meanLuma: n > 0 ? sum / n : 0,
    darkFraction: n > 0 ? dark / n : 0,
    brightFraction: n > 0 ? bright / n : 0,
    laplacianVariance: m > 0 ? lapSq / m - lapMean * lapMean : 0,
  };
}

export interface QualityInput {
  readonly stats: ImageStatistics;
  readonly lesionAreaFraction: number;
  readonly lesionTouchesBorder: boolean;
  /** Null when the model has no OOD output. */
  readonly oodScore: number | null;
  readonly oodThreshold: number | null;
}

/** All flags that apply, in a stable order. */
export function qualityFlags(
  q: QualityInput,
  t: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): QualityFlag[] {
  const flags: QualityFlag[] = [];
  if (q.oodScore !== null && q.oodThreshold !== null && q.oodScore > q.oodThreshold)
    flags.push(QualityFlag.NOT_DERMOSCOPIC);
  if (q.stats.laplacianVariance < t.minLaplacianVariance) flags.push(QualityFlag.BLURRED);
  if (q.stats.meanLuma < t.minMeanLuma || q.stats.darkFraction > t.maxDarkFraction)
    flags.push(QualityFlag.UNDER_EXPOSED);
  if (q.stats.meanLuma > t.maxMeanLuma || q.stats.brightFraction > t.maxBrightFraction)
    flags.push(QualityFlag.OVER_EXPOSED);
  if (q.lesionAreaFraction < t.minLesionAreaFraction) flags.push(QualityFlag.NO_LESION_FOUND);
  if (q.lesionTouchesBorder) flags.push(QualityFlag.LESION_TOUCHES_BORDER);
  return flags;
}
