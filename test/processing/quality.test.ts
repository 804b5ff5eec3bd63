import {
  BLOCKING_FLAGS,
  colourFlags,
  colourStatistics,
  DEFAULT_COLOUR_THRESHOLDS,
  hueAndChroma,
  hueInWindow,
  hueOffset,
  type ColourStatistics,
  DEFAULT_QUALITY_THRESHOLDS,
  imageStatistics,
  QualityFlag,
  qualityFlags,
  type ImageStatistics,
} from '../../src/processing/quality.js';

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
  // dermoscopy-like colour: orange-brown image, brown lesion
  const colour = {
    colour: { meanChroma: 40, hueDegrees: 20, meanColourChroma: 30, darkHueDegrees: 15, darkChroma: 20 },
    greyscaleSource: false,
  };
  const clean = {
    stats: good,
    lesionAreaFraction: 0.2,
    lesionTouchesBorder: false,
    oodScore: 0.5,
    oodThreshold: 1,
    colour,
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
      colour: DEFAULT_COLOUR_THRESHOLDS,
    };
    const flags = qualityFlags(
      {
        // under-exposed by mean luma, over-exposed by bright fraction: both apply
        stats: { meanLuma: 30, darkFraction: 0, brightFraction: 0.7, laplacianVariance: 1 },
        lesionAreaFraction: 0,
        lesionTouchesBorder: true,
        oodScore: 2,
        oodThreshold: 1,
        colour: { ...colour, greyscaleSource: true },
      },
      t,
    );
    expect(flags).toEqual([
      QualityFlag.NOT_DERMOSCOPIC,
      QualityFlag.BLURRED,
      QualityFlag.UNDER_EXPOSED,
      QualityFlag.OVER_EXPOSED,
      QualityFlag.GREYSCALE,
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
      colour: {
        colour: { ...colour.colour, meanChroma: t.colour.minMeanChroma },
        greyscaleSource: false,
      },
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

describe('colour statistics', () => {
  it('gives the hue and chroma of primary and secondary colours', () => {
    // x = (2r - g - b) / 2, y = √3 (g - b) / 2
    expect(hueAndChroma(255, 0, 0)).toEqual({ hue: 0, chroma: 255 }); // x 255, y 0
    const yellow = hueAndChroma(255, 255, 0); // x 127.5, y 220.84 → 60°, chroma 255
    expect(yellow.hue).toBeCloseTo(60, 9);
    expect(yellow.chroma).toBeCloseTo(255, 9);
    expect(hueAndChroma(0, 0, 255).hue).toBeCloseTo(240, 9); // x -127.5, y -220.84
    expect(hueAndChroma(0, 255, 255).hue).toBeCloseTo(180, 9); // x -255, y 0
    expect(hueAndChroma(255, 0, 255).hue).toBeCloseTo(300, 9);
    expect(hueAndChroma(100, 100, 100)).toEqual({ hue: 0, chroma: 0 });
  });

  it('computes mean chroma, the mean colour hue and the darkest quarter of a 4-pixel image', () => {
    // pixels: (200,150,100) skin, (210,160,110) skin, (220,170,120) skin, (60,40,30) lesion
    // chroma per pixel: 100, 100, 100, 30 → mean 82.5
    // mean colour (172.5, 130, 90): x = (345 - 220) / 2 = 62.5, y = √3·40/2 = 34.641 → 29.0°, chroma 71.46
    // darkest quarter = 1 pixel (60,40,30): x = (120 - 70) / 2 = 25, y = √3·10/2 = 8.660 → 19.1°, chroma 26.46
    const rgb = Uint8Array.of(200, 150, 100, 210, 160, 110, 220, 170, 120, 60, 40, 30);
    const s = colourStatistics(rgb, 2, 2);
    expect(s.meanChroma).toBeCloseTo(82.5, 9);
    expect(s.hueDegrees).toBeCloseTo(29.0, 1);
    expect(s.meanColourChroma).toBeCloseTo(71.46, 2);
    expect(s.darkHueDegrees).toBeCloseTo(19.1, 1);
    expect(s.darkChroma).toBeCloseTo(26.46, 2);
  });

  it('moves the hue of a channel-swapped (BGR) image to blue', () => {
    // BGR of the image above: mean (90, 130, 172.5): x = (180 - 302.5) / 2 = -61.25,
    // y = √3·(-42.5)/2 = -36.806 → 180° + atan(36.806 / 61.25) = 211.0°;
    // lesion (30, 40, 60): x = (60 - 100) / 2 = -20, y = √3·(-20)/2 = -17.321 → 180° + 40.9° = 220.9°
    const rgb = Uint8Array.of(100, 150, 200, 110, 160, 210, 120, 170, 220, 30, 40, 60);
    const s = colourStatistics(rgb, 2, 2);
    expect(s.hueDegrees).toBeCloseTo(211.0, 1);
    expect(s.darkHueDegrees).toBeCloseTo(220.9, 1);
  });

  it('gives a grey image chroma 0 and an empty image zeros, no NaN', () => {
    expect(colourStatistics(uniform(3, 2, 90, 90, 90), 3, 2)).toEqual({
      meanChroma: 0,
      hueDegrees: 0,
      meanColourChroma: 0,
      darkHueDegrees: 0,
      darkChroma: 0,
    });
    expect(colourStatistics(new Uint8Array(0), 0, 0).meanChroma).toBe(0);
  });

  it('reads hue windows through 0 degrees', () => {
    expect(hueOffset(10, 300)).toBe(70);
    expect(hueOffset(290, 300)).toBe(350);
    const w = { from: 300, to: 90 };
    expect([300, 359, 0, 45, 90].map((h) => hueInWindow(h, w))).toEqual([true, true, true, true, true]);
    expect([91, 180, 240, 299.9].map((h) => hueInWindow(h, w))).toEqual([false, false, false, false]);
  });
});

describe('colourFlags', () => {
  const t = { minMeanChroma: 2, meanHue: { from: 300, to: 90 }, darkHue: { from: 270, to: 60 } };
  const stats = (o: Partial<ColourStatistics>): ColourStatistics => ({
    meanChroma: 40,
    hueDegrees: 20,
    meanColourChroma: 30,
    darkHueDegrees: 15,
    darkChroma: 20,
    ...o,
  });

  it('passes dermoscopy colours', () => {
    expect(colourFlags({ colour: stats({}), greyscaleSource: false }, t)).toEqual([]);
  });

  it('flags GREYSCALE for a one-channel source whatever its statistics, and below the chroma bound', () => {
    expect(colourFlags({ colour: stats({}), greyscaleSource: true }, t)).toEqual([QualityFlag.GREYSCALE]);
    expect(colourFlags({ colour: stats({ meanChroma: 1.99 }), greyscaleSource: false }, t)).toEqual([
      QualityFlag.GREYSCALE,
    ]);
    expect(colourFlags({ colour: stats({ meanChroma: 2 }), greyscaleSource: false }, t)).toEqual([]);
  });

  it('flags UNUSUAL_COLOURS only when both the mean and the lesion hue are outside their windows', () => {
    const flag = (hueDegrees: number, darkHueDegrees: number) =>
      colourFlags({ colour: stats({ hueDegrees, darkHueDegrees }), greyscaleSource: false }, t);
    expect(flag(210, 200)).toEqual([QualityFlag.UNUSUAL_COLOURS]); // BGR: both blue
    expect(flag(210, 20)).toEqual([]); // blue background, brown lesion
    expect(flag(20, 210)).toEqual([]); // skin-coloured image, blue-grey lesion
    expect(flag(91, 61)).toEqual([QualityFlag.UNUSUAL_COLOURS]); // just outside both
    expect(flag(90, 61)).toEqual([]);
  });

  it('blocks the classification for both colour flags', () => {
    expect(BLOCKING_FLAGS).toEqual(
      expect.arrayContaining([QualityFlag.GREYSCALE, QualityFlag.UNUSUAL_COLOURS]),
    );
  });
});
