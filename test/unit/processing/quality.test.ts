import {
  BLOCKING_FLAGS,
  DEFAULT_QUALITY_THRESHOLDS,
  imageStatistics,
  QualityFlag,
  qualityFlags,
  type ImageStatistics,
} from '../../../src/processing/quality.js';

/** Interleaved RGB with every pixel (r, g, b). */
function uniform(width: number, height: number, r: number, g: number, b: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) out.set([r, g, b], 3 * i);
  return out;
}

/** Black/white checkerboard, white where x + y is even. */
function checkerboard(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      if ((x + y) % 2 === 0) out.fill(255, 3 * (y * width + x), 3 * (y * width + x) + 3);
  }
  return out;
}

describe('imageStatistics', () => {
  it('gives a uniform grey image luma 100 and Laplacian variance 0', () => {
    // luma = 0.299 * 100 + 0.587 * 100 + 0.114 * 100 = 100; every Laplacian is 0
    const s = imageStatistics(uniform(5, 4, 100, 100, 100), 5, 4);
    expect(s.meanLuma).toBeCloseTo(100, 4);
    expect(s.laplacianVariance).toBe(0);
    expect(s.darkFraction).toBe(0);
    expect(s.brightFraction).toBe(0);
  });

  it('weights channels by Rec. 601 luma', () => {
    // pure red: 0.299 * 255 = 76.245
    expect(imageStatistics(uniform(3, 3, 255, 0, 0), 3, 3).meanLuma).toBeCloseTo(76.245, 3);
  });

  it('computes the Laplacian variance of a 4x4 checkerboard', () => {
    // interior pixels (1,1) (2,1) (1,2) (2,2): two white, two black.
    // white: 4 black neighbours → 0 - 4 * 255 = -1020; black: 4 * 255 - 0 = +1020
    // mean 0, variance 1020^2 = 1,040,400
    const s = imageStatistics(checkerboard(4, 4), 4, 4);
    expect(s.laplacianVariance).toBeCloseTo(1_040_400, 0);
    expect(s.meanLuma).toBeCloseTo(127.5, 3);
    expect(s.darkFraction).toBe(0.5); // luma 0 <= 8
    expect(s.brightFraction).toBe(0.5); // luma 255 >= 247
  });

  it('counts the dark and bright boundaries inclusively (<= 8, >= 247)', () => {
    const rgb = Uint8Array.of(8, 8, 8, 9, 9, 9, 246, 246, 246, 247, 247, 247);
    const s = imageStatistics(rgb, 4, 1);
    expect(s.darkFraction).toBe(0.25);
    expect(s.brightFraction).toBe(0.25);
  });

  it('has no interior (variance 0) for images thinner than 3 pixels, and no NaN when empty', () => {
    expect(imageStatistics(checkerboard(2, 2), 2, 2).laplacianVariance).toBe(0);
    expect(imageStatistics(new Uint8Array(0), 0, 0)).toEqual({
      meanLuma: 0,
      darkFraction: 0,
      brightFraction: 0,
      laplacianVariance: 0,
    });
  });
});

describe('qualityFlags', () => {
  const good: ImageStatistics = {
    meanLuma: 150,
    darkFraction: 0.01,
    brightFraction: 0.01,
    laplacianVariance: 50,
  };
  const clean = {
    stats: good,
    lesionAreaFraction: 0.2,
    lesionTouchesBorder: false,
    oodScore: 0.5,
    oodThreshold: 1,
  };

  it('returns no flags for a good image', () => {
    expect(qualityFlags(clean)).toEqual([]);
  });

  it('lists every applicable flag in a stable order', () => {
    // explicit thresholds: the test must not depend on the tuned defaults
    const t = {
      minLaplacianVariance: 4,
      minMeanLuma: 40,
      maxMeanLuma: 235,
      maxDarkFraction: 0.6,
      maxBrightFraction: 0.5,
      minLesionAreaFraction: 0.002,
    };
    const flags = qualityFlags(
      {
        // under-exposed by mean luma, over-exposed by bright fraction: both apply
        stats: { meanLuma: 30, darkFraction: 0, brightFraction: 0.7, laplacianVariance: 1 },
        lesionAreaFraction: 0,
        lesionTouchesBorder: true,
        oodScore: 2,
        oodThreshold: 1,
      },
      t,
    );
    expect(flags).toEqual([
      QualityFlag.NOT_DERMOSCOPIC,
      QualityFlag.BLURRED,
      QualityFlag.UNDER_EXPOSED,
      QualityFlag.OVER_EXPOSED,
      QualityFlag.NO_LESION_FOUND,
      QualityFlag.LESION_TOUCHES_BORDER,
    ]);
  });

  it('uses strict comparisons at the thresholds', () => {
    const t = DEFAULT_QUALITY_THRESHOLDS;
    const atLimits = qualityFlags({
      stats: {
        meanLuma: t.minMeanLuma,
        darkFraction: t.maxDarkFraction,
        brightFraction: t.maxBrightFraction,
        laplacianVariance: t.minLaplacianVariance,
      },
      lesionAreaFraction: t.minLesionAreaFraction,
      lesionTouchesBorder: false,
      oodScore: 1,
      oodThreshold: 1,
    });
    expect(atLimits).toEqual([]);
  });

  it('never flags NOT_DERMOSCOPIC without an OOD score or threshold', () => {
    expect(qualityFlags({ ...clean, oodScore: null, oodThreshold: 1 })).toEqual([]);
    expect(qualityFlags({ ...clean, oodScore: 99, oodThreshold: null })).toEqual([]);
  });

  it('treats a lesion touching the border as informative, not blocking', () => {
    expect(BLOCKING_FLAGS).not.toContain(QualityFlag.LESION_TOUCHES_BORDER);
    expect(qualityFlags({ ...clean, lesionTouchesBorder: true })).toEqual([
      QualityFlag.LESION_TOUCHES_BORDER,
    ]);
  });
});
