import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { ErrorCode } from '../../src/errors.js';
import { decodeImage, type DecodedImage, fitWithin, sniffImageFormat } from '../../src/image/decode.js';
import type { ModelContract } from '../../src/model/contract.js';
import { fixtures } from '../helpers/images.js';
import { requireTestModel } from '../helpers/model.js';

const limits = {
  maxPixels: DEFAULT_CONFIG.maxPixels,
  minSide: DEFAULT_CONFIG.minSide,
  maxAspectRatio: DEFAULT_CONFIG.maxAspectRatio,
  overlayMaxSide: DEFAULT_CONFIG.overlayMaxSide,
};

let size: { width: number; height: number };

beforeAll(async () => {
  const contract = JSON.parse(
    await readFile(requireTestModel().replace(/\.onnx$/, '.json'), 'utf8'),
  ) as ModelContract;
  size = { width: contract.input.width, height: contract.input.height };
});

/** The model input is always the contract's landscape size, 3 channels. */
function expectModelInput(d: DecodedImage): void {
  expect(d.modelInput.width).toBe(size.width);
  expect(d.modelInput.height).toBe(size.height);
  expect(d.modelInput.data.length).toBe(size.width * size.height * 3);
  expect(d.preview.data.length).toBe(d.preview.width * d.preview.height * 3);
}

describe('decodeImage on supported inputs', () => {
  it.each([
    ['JPEG', fixtures.jpeg, 'jpeg', []],
    ['PNG', fixtures.png, 'png', []],
    ['greyscale PNG', fixtures.greyscalePng, 'png', ['colourspace b-w -> srgb']],
    ['RGBA PNG', fixtures.rgbaPng, 'png', ['alpha flattened on black']],
    ['16-bit PNG', fixtures.png16, 'png', ['colourspace rgb16 -> srgb', 'depth ushort -> 8-bit']],
    ['CMYK JPEG', fixtures.cmykJpeg, 'jpeg', ['colourspace cmyk -> srgb']],
    ['WebP', fixtures.webp, 'webp', []],
    ['TIFF', fixtures.tiff, 'tiff', []],
  ] as const)(
    'decodes a 160x120 %s to 8-bit sRGB at the model size',
    async (_name, make, format, conversions) => {
      const d = await decodeImage(await make(160, 120), limits, size);
      expect(d.format).toBe(format);
      expect([d.width, d.height]).toEqual([160, 120]);
      expect(d.exifOrientation).toBe(1);
      expect(d.rotatedForModel).toBe(false);
      expect(d.conversions).toEqual(conversions);
      expect([d.preview.width, d.preview.height]).toEqual([160, 120]); // below overlayMaxSide: not resized
      expectModelInput(d);
    },
  );

  it('converts CMYK to RGB colours, not inverted ones', async () => {
    // the fixture's background is skin-toned (R 220, G 170, B 150): R must stay the largest channel
    const d = await decodeImage(await fixtures.cmykJpeg(160, 120), limits, size);
    const [r, g, b] = [d.preview.data[0]!, d.preview.data[1]!, d.preview.data[2]!];
    expect(r).toBeGreaterThan(150);
    expect(r).toBeGreaterThan(b);
    expect(g).toBeGreaterThan(100);
  });

  it('applies EXIF orientation 6: a stored 160x120 image is displayed 120x160 and rotated for the model', async () => {
    const d = await decodeImage(await fixtures.exifRotatedJpeg(160, 120, 6), limits, size);
    expect([d.width, d.height]).toEqual([120, 160]);
    expect(d.exifOrientation).toBe(6);
    expect(d.rotatedForModel).toBe(true);
    expect(d.conversions).toEqual(['exif orientation 6 applied']);
    expect([d.preview.width, d.preview.height]).toEqual([120, 160]);
    expectModelInput(d);
  });

  it('keeps orientation 3 (180°) landscape', async () => {
    const d = await decodeImage(await fixtures.exifRotatedJpeg(160, 120, 3), limits, size);
    expect([d.width, d.height, d.rotatedForModel]).toEqual([160, 120, false]);
  });

  it('rotates a plain portrait photo for the model', async () => {
    const d = await decodeImage(await fixtures.portraitJpeg(120, 160), limits, size);
    expect([d.width, d.height, d.exifOrientation, d.rotatedForModel]).toEqual([120, 160, 1, true]);
    expectModelInput(d);
  });

  it('rotates portrait inputs clockwise: the displayed top row becomes the model input right column', async () => {
    // a 60x80 portrait whose top quarter is white and the rest black
    const w = 60;
    const h = 80;
    const raw = Buffer.alloc(w * h * 3);
    raw.fill(255, 0, w * (h / 4) * 3);
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    const d = await decodeImage(png, limits, size);
    const at = (x: number, y: number) => d.modelInput.data[3 * (y * size.width + x)]!;
    const midRow = Math.floor(size.height / 2);
    expect(at(size.width - 2, midRow)).toBeGreaterThan(200); // right edge: white
    expect(at(1, midRow)).toBeLessThan(50); // left edge: black
  });

  it('shrinks the preview to overlayMaxSide without upscaling small images', async () => {
    const d = await decodeImage(await fixtures.jpeg(400, 300), { ...limits, overlayMaxSide: 200 }, size);
    expect([d.width, d.height]).toEqual([400, 300]); // displayed size stays the original
    expect([d.preview.width, d.preview.height]).toEqual([200, 150]);
    expect(fitWithin(100, 50, 1024)).toEqual({ width: 100, height: 50 });
  });

  it('decodes a still GIF', async () => {
    const gif = await sharp(await fixtures.png(64, 48))
      .gif()
      .toBuffer();
    const d = await decodeImage(gif, limits, size);
    expect(d.format).toBe('gif');
    expectModelInput(d);
  });
});

describe('decodeImage on bad inputs', () => {
  const code = async (bytes: Uint8Array, l = limits) =>
    decodeImage(bytes, l, size).then(
      () => 'decoded',
      (e: { code?: string }) => e.code,
    );

  it.each([
    ['an empty buffer', ErrorCode.EMPTY_OBJECT, () => Buffer.alloc(0)],
    ['text', ErrorCode.UNSUPPORTED_FORMAT, fixtures.text],
    ['a PDF', ErrorCode.UNSUPPORTED_FORMAT, fixtures.pdf],
    ['a ZIP', ErrorCode.UNSUPPORTED_FORMAT, fixtures.zip],
    ['a JPEG cut in half', ErrorCode.CORRUPT_IMAGE, () => fixtures.truncatedJpeg(0.5)],
    ['a JPEG cut inside its header', ErrorCode.CORRUPT_IMAGE, fixtures.jpegHeaderOnly],
    ['a PNG with a broken IDAT CRC', ErrorCode.CORRUPT_IMAGE, fixtures.brokenCrcPng],
    ['a PNG whose IDAT CRC field alone is wrong', ErrorCode.CORRUPT_IMAGE, fixtures.wrongCrcFieldPng],
    ['a 30000x30000 PNG bomb', ErrorCode.TOO_LARGE, fixtures.decompressionBombPng],
    ['a 1x1 PNG', ErrorCode.TOO_SMALL, fixtures.tinyPng],
    ['a 20:1 panorama', ErrorCode.UNSUPPORTED_ASPECT_RATIO, fixtures.panoramaPng],
    ['an animated GIF', ErrorCode.UNSUPPORTED_FORMAT, fixtures.animatedGif],
    ['an animated WebP', ErrorCode.UNSUPPORTED_FORMAT, fixtures.animatedWebp],
    ['a HEIC (HEVC) photo', ErrorCode.UNSUPPORTED_FORMAT, () => fixtures.heicContainer()],
  ])('rejects %s with %s', async (_name, expected, make) => {
    expect(await code(await make())).toBe(expected);
  });

  it('explains a HEIC rejection in terms the uploader can act on', async () => {
    await expect(decodeImage(fixtures.heicContainer(), limits, size)).rejects.toThrow(
      /HEIC.*export the photo as JPEG/,
    );
  });

  it('checks the size limits on the displayed (EXIF-rotated) size', async () => {
    // stored 160x40 (4:1) with orientation 6 → displayed 40x160; minSide 41 rejects the 40 px width
    const bytes = await fixtures.exifRotatedJpeg(160, 40, 6);
    expect(await code(bytes, { ...limits, minSide: 41 })).toBe(ErrorCode.TOO_SMALL);
    expect(await code(bytes, { ...limits, minSide: 40 })).toBe('decoded');
  });

  it('rejects one pixel over maxPixels', async () => {
    const bytes = await fixtures.png(100, 100);
    expect(await code(bytes, { ...limits, maxPixels: 9_999 })).toBe(ErrorCode.TOO_LARGE);
    expect(await code(bytes, { ...limits, maxPixels: 10_000 })).toBe('decoded');
  });

  // Speed and memory of this path are measured by `npm run bench`, not asserted here.
  it('rejects the bomb from its header alone (the message names the declared size)', async () => {
    const bomb = fixtures.decompressionBombPng();
    await expect(decodeImage(bomb, limits, size)).rejects.toMatchObject({
      code: ErrorCode.TOO_LARGE,
      message: 'The image is 30000x30000 (900.0 MP), above the 60 MP limit.',
    });
  });
});

describe('sniffImageFormat', () => {
  it('names formats from their magic numbers and nothing else', async () => {
    expect(sniffImageFormat(await fixtures.jpeg())).toBe('jpeg');
    expect(sniffImageFormat(await fixtures.png())).toBe('png');
    expect(sniffImageFormat(await fixtures.animatedGif())).toBe('gif');
    expect(sniffImageFormat(await fixtures.webp())).toBe('webp');
    expect(sniffImageFormat(await fixtures.tiff())).toBe('tiff');
    expect(sniffImageFormat(fixtures.heicContainer())).toBe('heif');
    expect(sniffImageFormat(fixtures.pdf())).toBeNull();
    expect(sniffImageFormat(fixtures.zip())).toBeNull();
    expect(sniffImageFormat(Buffer.alloc(0))).toBeNull();
  });
});
