import sharp from 'sharp';
import { ErrorCode, InputError } from '../../src/errors.js';
import { LesionAnalyzer, type LesionAnalysis } from '../../src/pipeline/analyzer.js';
import type { AnalysisResult } from '../../src/results/result.js';
import { BLOCKING_FLAGS } from '../../src/processing/quality.js';
import { fixtures, pngHeader, rawPng, readSamples } from '../helpers/images.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { darkPixelSession, darkRectJpeg, iouWithRect, type Rect } from '../helpers/oracle.js';
import { resultSchemaErrors } from '../helpers/schema.js';

let analyzer: LesionAnalyzer;
let samples: { name: string; bytes: Buffer }[];

beforeAll(async () => {
  analyzer = await createTestAnalyzer();
  samples = await readSamples();
});

afterAll(async () => {
  await analyzer.dispose();
});

/** Checks every analysis must pass, whatever the model predicts. */
async function expectValidAnalysis(a: LesionAnalysis, width: number, height: number): Promise<void> {
  const r = a.result;
  expect(resultSchemaErrors(JSON.parse(JSON.stringify(r)))).toEqual([]);
  expect([r.image.width, r.image.height]).toEqual([width, height]);

  // mask.png: the displayed size, one channel, only 0 and 255
  expect(pngHeader(a.maskPng)).toEqual({ width, height, bitDepth: 8, colourType: 0 }); // 8-bit greyscale
  const mask = await rawPng(a.maskPng);
  expect([mask.width, mask.height, mask.channels]).toEqual([width, height, 1]);
  const values = new Set(mask.data);
  for (const v of values) expect([0, 255]).toContain(v);

  // overlay.jpg: 3 channels, the display orientation, long side <= overlayMaxSide
  const overlay = await sharp(a.overlayJpeg).metadata();
  expect([overlay.format, overlay.channels, overlay.hasAlpha]).toEqual(['jpeg', 3, false]);
  expect(Math.max(overlay.width, overlay.height)).toBeLessThanOrEqual(
    Math.min(analyzer.config.overlayMaxSide, Math.max(width, height)),
  );
  expect(overlay.width >= overlay.height).toBe(width >= height);

  // the JSON agrees with the mask
  const lesionPixels = mask.data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);
  expect(r.segmentation.lesionFound).toBe(lesionPixels > 0);
  expect(r.segmentation.boundingBox === null).toBe(lesionPixels === 0);
  if (r.segmentation.boundingBox) {
    const b = r.segmentation.boundingBox;
    expect(b.x + b.width).toBeLessThanOrEqual(width);
    expect(b.y + b.height).toBeLessThanOrEqual(height);
  }

  // classification invariants
  const c = r.classification;
  for (const o of [c.melanoma, c.seborrheicKeratosis]) expect(o.positive).toBe(o.probability >= o.threshold);
  expect(c.withheld).toBe(c.withheldReasons.length > 0);
  expect(c.withheldReasons).toEqual(r.quality.flags.filter((f) => BLOCKING_FLAGS.includes(f)));
  expect(r.model).toEqual({
    name: analyzer.contract.name,
    version: analyzer.contract.version,
    sha256: analyzer.contract.sha256,
    executionProvider: 'cpu',
  });
}

/** Bounding box of the 255 pixels of a 1-channel mask. */
function maskBox(mask: { data: Buffer; width: number; height: number }) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i] !== 255) continue;
    const x = i % mask.width;
    const y = (i - x) / mask.width;
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

describe('LesionAnalyzer.analyze on the bundled samples', () => {
  it('finds the samples', () => {
    expect(samples.length).toBeGreaterThanOrEqual(4);
  });

  it('produces a valid result, a 0/255 mask at the image size and a 3-channel overlay for every sample', async () => {
    for (const s of samples) {
      const { width, height } = await sharp(s.bytes).metadata();
      const a = await analyzer.analyze(s.bytes, { id: s.name, bucket: 'b', key: `uploads/${s.name}` });
      await expectValidAnalysis(a, width!, height!);
      expect(a.result.image).toMatchObject({
        id: s.name,
        bucket: 'b',
        key: `uploads/${s.name}`,
        bytes: s.bytes.length,
        format: 'jpeg',
      });
    }
  });

  it('reports area and bounding box of exactly the mask it writes (preview = full size below 1024 px)', async () => {
    const s = samples[0]!;
    const a = await analyzer.analyze(s.bytes, { id: 'x' });
    const mask = await rawPng(a.maskPng);
    const lesion = mask.data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);
    expect(a.result.segmentation.areaFraction).toBeCloseTo(lesion / mask.data.length, 6);
    expect(a.result.segmentation.boundingBox).toEqual(maskBox(mask));
  });

  it('is deterministic: the same bytes give the same mask and probabilities', async () => {
    const s = samples[1]!;
    const [a, b] = [
      await analyzer.analyze(s.bytes, { id: 'x' }),
      await analyzer.analyze(s.bytes, { id: 'x' }),
    ];
    expect(b.maskPng.equals(a.maskPng)).toBe(true);
    expect(b.result.classification).toEqual(a.result.classification);
  });
});

describe('LesionAnalyzer.analyze on other shapes and formats', () => {
  it('writes the mask of an EXIF-rotated portrait JPEG at the DISPLAYED size', async () => {
    // a sample (256x192) stored landscape with orientation 6 is displayed as 192x256
    const rotated = await sharp(samples[0]!.bytes)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    const a = await analyzer.analyze(rotated, { id: 'portrait' });
    await expectValidAnalysis(a, 192, 256);
    expect(a.result.image.exifOrientation).toBe(6);
    expect(a.result.image.conversions).toContain('exif orientation 6 applied');
  });

  it('gives an EXIF-rotated photo the same mask as the same photo rotated in its pixels', async () => {
    const exif = await sharp(samples[2]!.bytes)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    const physical = await sharp(exif).rotate().png().toBuffer(); // lossless copy of the displayed pixels
    const [a, b] = [await analyzer.analyze(exif, { id: 'a' }), await analyzer.analyze(physical, { id: 'b' })];
    const [ma, mb] = [await rawPng(a.maskPng), await rawPng(b.maskPng)];
    expect([ma.width, ma.height]).toEqual([mb.width, mb.height]);
    expect(ma.data.equals(mb.data)).toBe(true);
    expect(a.result.classification).toEqual(b.result.classification);
  });

  it('writes a full-size mask and a bounded overlay for a large photo', async () => {
    const big = await fixtures.jpeg(2000, 1500);
    const a = await analyzer.analyze(big, { id: 'big' });
    await expectValidAnalysis(a, 2000, 1500);
    const overlay = await sharp(a.overlayJpeg).metadata();
    expect([overlay.width, overlay.height]).toEqual([1024, 768]);
  });

  it.each([
    ['16-bit PNG', fixtures.png16],
    ['CMYK JPEG', fixtures.cmykJpeg],
    ['greyscale PNG', fixtures.greyscalePng],
    ['RGBA PNG', fixtures.rgbaPng],
    ['WebP', fixtures.webp],
    ['TIFF', fixtures.tiff],
  ])('analyses a %s', async (_name, make) => {
    const a = await analyzer.analyze(await make(200, 150), { id: 'x' });
    await expectValidAnalysis(a, 200, 150);
  });
});

describe('LesionAnalyzer.analyzeBatch', () => {
  it('answers each slot on its own: a bad input never fails its neighbours', async () => {
    const good = samples[0]!.bytes;
    const out = await analyzer.analyzeBatch([
      { bytes: good, target: { id: 'a' } },
      { bytes: fixtures.text(), target: { id: 'b' } },
      { bytes: await fixtures.tinyPng(), target: { id: 'c' } },
      { bytes: good, target: { id: 'd' } },
    ]);
    expect(out).toHaveLength(4);
    expect((out[0] as LesionAnalysis).result.image.id).toBe('a');
    expect(out[1]).toBeInstanceOf(InputError);
    expect(out[1]).toMatchObject({ code: ErrorCode.UNSUPPORTED_FORMAT });
    expect(out[2]).toMatchObject({ code: ErrorCode.TOO_SMALL });
    expect((out[3] as LesionAnalysis).result.image.id).toBe('d');
  });

  it('handles a batch with no decodable image without running the model', async () => {
    // Arrange: the real session, with its runs counted
    let runs = 0;
    const real = analyzer.session;
    const counted = await LesionAnalyzer.create({
      config: analyzer.config,
      session: {
        contract: real.contract,
        provider: real.provider,
        run: (images, batch) => {
          runs++;
          return real.run(images, batch);
        },
        dispose: async () => undefined,
      },
    });

    // Act
    const out = await counted.analyzeBatch([{ bytes: Buffer.alloc(0), target: { id: 'e' } }]);
    await counted.analyzeBatch([{ bytes: await fixtures.jpeg(), target: { id: 'f' } }]);

    // Assert: no run for the empty object; one for the good image (the counter works)
    expect(out[0]).toMatchObject({ code: ErrorCode.EMPTY_OBJECT });
    expect(runs).toBe(1);
  });

  it('throws the typed error from analyze() for a bad input', async () => {
    await expect(analyzer.analyze(await fixtures.panoramaPng(), { id: 'p' })).rejects.toMatchObject({
      name: 'InputError',
      code: ErrorCode.UNSUPPORTED_ASPECT_RATIO,
      retryable: false,
    });
  });
});

describe('result.json schema', () => {
  let result: AnalysisResult;

  beforeAll(async () => {
    result = (await analyzer.analyze(samples[0]!.bytes, { id: 's' })).result;
  });

  it('rejects an unknown property at any level (additionalProperties false)', () => {
    const doc = JSON.parse(JSON.stringify(result)) as Record<string, Record<string, unknown>>;
    doc.segmentation!.extra = 1;
    expect(resultSchemaErrors(doc)).toEqual(['/segmentation must NOT have additional properties']);
  });

  it('rejects a missing property', () => {
    const doc = JSON.parse(JSON.stringify(result)) as Record<string, Record<string, unknown>>;
    delete doc.quality!.oodScore;
    expect(resultSchemaErrors(doc)).toEqual(["/quality must have required property 'oodScore'"]);
  });
});

describe('pipeline geometry with a known-answer session (lesion = dark pixels)', () => {
  // Same config and contract as the ONNX analyzer; only the session is replaced.
  let oracle: LesionAnalyzer;

  beforeAll(async () => {
    oracle = await LesionAnalyzer.create({
      config: analyzer.config,
      session: darkPixelSession(analyzer.contract),
    });
  });

  async function maskOf(bytes: Buffer) {
    const a = await oracle.analyze(bytes, { id: 'geometry' });
    return { a, mask: await rawPng(a.maskPng) };
  }

  it.each([
    ['landscape', 640, 480, 1],
    ['portrait', 480, 640, 1],
    ['EXIF-rotated portrait', 480, 640, 6],
  ] as const)(
    'puts the mask of a %s photo where the lesion is displayed',
    async (_name, w, h, orientation) => {
      // dark rectangle in the bottom-left quadrant of the DISPLAYED image
      const rect: Rect = {
        x: Math.round(w * 0.1),
        y: Math.round(h * 0.55),
        width: Math.round(w * 0.3),
        height: Math.round(h * 0.3),
      };
      const { a, mask } = await maskOf(await darkRectJpeg(w, h, rect, orientation));
      expect([mask.width, mask.height]).toEqual([w, h]);
      expect(iouWithRect(mask, rect)).toBeGreaterThan(0.9);
      // the mask is predicted at model resolution: edges are exact to about one model pixel
      const px = Math.max(w, h) / analyzer.contract.input.width;
      const box = a.result.segmentation.boundingBox!;
      expect(Math.abs(box.x - rect.x)).toBeLessThanOrEqual(px);
      expect(Math.abs(box.y - rect.y)).toBeLessThanOrEqual(px);
      expect(a.result.segmentation.areaFraction).toBeCloseTo((rect.width * rect.height) / (w * h), 2);
      expect(a.result.segmentation.touchesBorder).toBe(false);
    },
  );

  it('maps the lesion back onto a full-resolution photo (3000x2000) through the 1024 px preview', async () => {
    const rect: Rect = { x: 1200, y: 700, width: 900, height: 600 };
    const { a, mask } = await maskOf(await darkRectJpeg(3000, 2000, rect));
    expect([mask.width, mask.height]).toEqual([3000, 2000]);
    expect(iouWithRect(mask, rect)).toBeGreaterThan(0.95);
    // measured on the 1024x683 preview of a mask predicted at model resolution, scaled back:
    // edges exact to about one model pixel (3000 / model width)
    const px = 3000 / analyzer.contract.input.width;
    const box = a.result.segmentation.boundingBox!;
    expect(Math.abs(box.x - rect.x)).toBeLessThanOrEqual(px);
    expect(Math.abs(box.x + box.width - (rect.x + rect.width))).toBeLessThanOrEqual(px);
    expect(Math.abs(box.y - rect.y)).toBeLessThanOrEqual(px);
    expect(Math.abs(box.y + box.height - (rect.y + rect.height))).toBeLessThanOrEqual(px);
  });

  it('reports no lesion, an empty mask and NO_LESION_FOUND for a photo without dark pixels', async () => {
    const { a, mask } = await maskOf(await darkRectJpeg(320, 240, { x: 0, y: 0, width: 0, height: 0 }));
    expect(mask.data.every((v) => v === 0)).toBe(true);
    expect(a.result.segmentation).toMatchObject({ lesionFound: false, areaFraction: 0, boundingBox: null });
    expect(a.result.quality.flags).toContain('NO_LESION_FOUND');
    expect(a.result.classification.withheld).toBe(true);
    expect(resultSchemaErrors(JSON.parse(JSON.stringify(a.result)))).toEqual([]);
  });
});
