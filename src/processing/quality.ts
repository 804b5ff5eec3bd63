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
  /** No colour: a single-channel source, or (almost) equal R, G and B everywhere. */
  GREYSCALE: 'GREYSCALE',
  /** Colours no dermoscope gives: channels swapped (BGR), hue rotated, inverted. */
  UNUSUAL_COLOURS: 'UNUSUAL_COLOURS',
} as const;
export type QualityFlag = (typeof QualityFlag)[keyof typeof QualityFlag];

/** Flags under which a classification is withheld (still computed, marked withheld). */
export const BLOCKING_FLAGS: readonly QualityFlag[] = [
  QualityFlag.NOT_DERMOSCOPIC,
  QualityFlag.BLURRED,
  QualityFlag.UNDER_EXPOSED,
  QualityFlag.OVER_EXPOSED,
  QualityFlag.NO_LESION_FOUND,
  QualityFlag.GREYSCALE,
  QualityFlag.UNUSUAL_COLOURS,
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
  readonly colour: ColourThresholds;
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
  // Chosen on ISIC 2017 Training + Validation (2,150 images, `scripts/colour-gate.ts`): mean
  // chroma min 4.0 there, 0.0 for every greyscale version; the hue windows are the pair that keeps
  // untouched false flags under 1 % while flagging >= 95 % of channel-swapped (BGR) versions.
  colour: {
    minMeanChroma: 2,
    meanHue: { from: 300, to: 90 },
    darkHue: { from: 270, to: 60 },
  },
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
  /** Colour statistics of the model input and the decoder's colour facts. */
  readonly colour: ColourInput;
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
  flags.push(...colourFlags(q.colour, t.colour));
  if (q.lesionAreaFraction < t.minLesionAreaFraction) flags.push(QualityFlag.NO_LESION_FOUND);
  if (q.lesionTouchesBorder) flags.push(QualityFlag.LESION_TOUCHES_BORDER);
  return flags;
}

export interface ColourStatistics {
  /** Mean over pixels of max(R, G, B) − min(R, G, B), 0..255 (0 for a grey image). */
  readonly meanChroma: number;
  /**
   * Hue angle of the mean colour in degrees, [0, 360): atan2(√3·(G − B), 2R − G − B) on the
   * channel means (0 red, 60 yellow, 120 green, 180 cyan, 240 blue, 300 magenta). Dermoscopy sits
   * around red–orange; swapped channels or an inverted image land near blue–cyan.
   */
  readonly hueDegrees: number;
  /** Chroma of the mean colour, √((2R − G − B)² / 4 + 3(G − B)² / 4) on the channel means (0 = grey mean). */
  readonly meanColourChroma: number;
  /** Hue of the mean colour of the darkest quarter of the pixels (by luma): mostly the lesion. */
  readonly darkHueDegrees: number;
  /** Chroma of that mean colour. */
  readonly darkChroma: number;
}

/** Hue angle in degrees, [0, 360), and chroma of one colour (hexagonal projection). */
export function hueAndChroma(r: number, g: number, b: number): { hue: number; chroma: number } {
  const x = (2 * r - g - b) / 2;
  const y = (Math.sqrt(3) * (g - b)) / 2;
  if (x === 0 && y === 0) return { hue: 0, chroma: 0 };
  return { hue: ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360, chroma: Math.hypot(x, y) };
}

/** Colour statistics of an interleaved RGB image (the colour gate's evidence). */
export function colourStatistics(rgb: Uint8Array, width: number, height: number): ColourStatistics {
  const n = width * height;
  if (n === 0) return { meanChroma: 0, hueDegrees: 0, meanColourChroma: 0, darkHueDegrees: 0, darkChroma: 0 };
  let r = 0;
  let g = 0;
  let b = 0;
  let chroma = 0;
  const hist = new Uint32Array(256);
  const luma = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const R = rgb[3 * i]!;
    const G = rgb[3 * i + 1]!;
    const B = rgb[3 * i + 2]!;
    r += R;
    g += G;
    b += B;
    chroma += Math.max(R, G, B) - Math.min(R, G, B);
    const y = Math.round(0.299 * R + 0.587 * G + 0.114 * B);
    luma[i] = y;
    hist[y]!++;
  }
  // darkest quarter of the pixels (by luma): the lesion in a dermoscopy image
  const want = Math.ceil(n * DARK_SHARE);
  let cut = 0;
  for (let acc = 0; cut < 256; cut++) {
    acc += hist[cut]!;
    if (acc >= want) break;
  }
  let dr = 0;
  let dg = 0;
  let db = 0;
  let dn = 0;
  for (let i = 0; i < n; i++) {
    if (luma[i]! > cut) continue;
    dr += rgb[3 * i]!;
    dg += rgb[3 * i + 1]!;
    db += rgb[3 * i + 2]!;
    dn++;
  }
  const all = hueAndChroma(r / n, g / n, b / n);
  const dark = hueAndChroma(dr / dn, dg / dn, db / dn);
  return {
    meanChroma: chroma / n,
    hueDegrees: all.hue,
    meanColourChroma: all.chroma,
    darkHueDegrees: dark.hue,
    darkChroma: dark.chroma,
  };
}

/** Share of the darkest pixels whose mean colour is `darkHueDegrees`. */
export const DARK_SHARE = 0.25;

/** A hue window in degrees, read with increasing hue from `from` to `to` (may wrap through 0). */
export interface HueWindow {
  readonly from: number;
  readonly to: number;
}

/** Where dermoscopy's colours lie; set on Training + Validation only (docs/quality-gate.md). */
export interface ColourThresholds {
  /** Below this mean chroma (0..255) the image is GREYSCALE. */
  readonly minMeanChroma: number;
  /** Hues of the image's mean colour seen in dermoscopy. */
  readonly meanHue: HueWindow;
  /** Hues of the darkest quarter's mean colour (the lesion) seen in dermoscopy. */
  readonly darkHue: HueWindow;
}

/** Distance in degrees going with increasing hue from `from` to `h`, in [0, 360). */
export function hueOffset(h: number, from: number): number {
  return (((h - from) % 360) + 360) % 360;
}

/** True when `h` lies in the window (inclusive, may wrap through 0). */
export function hueInWindow(h: number, w: HueWindow): boolean {
  return hueOffset(h, w.from) <= hueOffset(w.to, w.from);
}

export interface ColourInput {
  readonly colour: ColourStatistics;
  /** The decoder's fact: the source had one colour channel (b-w, grey16, grey + alpha). */
  readonly greyscaleSource: boolean;
}

/**
 * GREYSCALE (a one-channel source, or mean chroma below the bound), else UNUSUAL_COLOURS when
 * both the mean colour and the lesion's (darkest quarter's) colour have hues dermoscopy does not
 * show — either alone is normal (a blue background or sticker; a blue-grey lesion).
 */
export function colourFlags(c: ColourInput, t: ColourThresholds): QualityFlag[] {
  if (c.greyscaleSource || c.colour.meanChroma < t.minMeanChroma) return [QualityFlag.GREYSCALE];
  if (!hueInWindow(c.colour.hueDegrees, t.meanHue) && !hueInWindow(c.colour.darkHueDegrees, t.darkHue))
    return [QualityFlag.UNUSUAL_COLOURS];
  return [];
}

export const DEFAULT_COLOUR_THRESHOLDS: ColourThresholds = DEFAULT_QUALITY_THRESHOLDS.colour;
