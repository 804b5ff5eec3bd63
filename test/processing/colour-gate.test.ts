// The colour gate end to end: greyscale and channel-swapped versions of real dermoscopy images
// get the classification withheld with GREYSCALE / UNUSUAL_COLOURS; the untouched images do not.
// Uses the bundled samples/ (always present) and, when ../shared is checked out, one ISIC 2017
// Validation image as well. Flags come from image statistics only, so any model will do.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import { QualityFlag } from '../../src/processing/quality.js';
import { createTestAnalyzer, REPO_ROOT } from '../helpers/model.js';

const VALIDATION_IMAGE = path.join(
  REPO_ROOT,
  '..',
  'shared',
  'data',
  'isic2017',
  'ISIC-2017_Validation_Data',
  'ISIC_0001769.jpg',
);
const images = [
  path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg'),
  path.join(REPO_ROOT, 'samples', 'ISIC_0012143.jpg'),
];
if (existsSync(VALIDATION_IMAGE)) images.push(VALIDATION_IMAGE);
else console.log(`colour gate: ${VALIDATION_IMAGE} absent (no ../shared): testing the bundled samples only`);

/** Every pixel's channels reordered BGR, re-encoded as JPEG (as a mis-configured export would). */
async function bgr(bytes: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i += 3) [data[i], data[i + 2]] = [data[i + 2]!, data[i]!];
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

const versions: Record<string, (b: Buffer) => Promise<Buffer>> = {
  // three equal channels: no decoder fact, the statistics must find it
  'greyscale (3-channel JPEG)': (b) => sharp(b).greyscale().jpeg({ quality: 90 }).toBuffer(),
  // what a monochrome export writes: the decoder reports colourspace b-w
  'greyscale (1-channel JPEG)': (b) =>
    sharp(b).greyscale().toColourspace('b-w').jpeg({ quality: 90 }).toBuffer(),
  'greyscale (16-bit grey PNG)': (b) => sharp(b).greyscale().toColourspace('grey16').png().toBuffer(),
  'channels swapped (BGR)': bgr,
};
const expected: Record<string, QualityFlag> = {
  'greyscale (3-channel JPEG)': QualityFlag.GREYSCALE,
  'greyscale (1-channel JPEG)': QualityFlag.GREYSCALE,
  'greyscale (16-bit grey PNG)': QualityFlag.GREYSCALE,
  'channels swapped (BGR)': QualityFlag.UNUSUAL_COLOURS,
};

describe('colour gate on real dermoscopy images', () => {
  let analyzer: LesionAnalyzer;
  beforeAll(async () => {
    analyzer = await createTestAnalyzer();
  });
  afterAll(async () => {
    await analyzer.dispose();
  });

  it.each(images.map((f) => [path.basename(f), f]))('passes the untouched %s', async (name, file) => {
    const { result } = await analyzer.analyze(await readFile(file), { id: name });
    expect(result.quality.flags).not.toContain(QualityFlag.GREYSCALE);
    expect(result.quality.flags).not.toContain(QualityFlag.UNUSUAL_COLOURS);
    expect(result.quality.greyscaleSource).toBe(false);
    expect(result.quality.meanChroma).toBeGreaterThan(2);
  });

  it.each(images.flatMap((f) => Object.keys(versions).map((v) => [v, path.basename(f), f])))(
    'withholds the classification of the %s version of %s with its flag',
    async (version, name, file) => {
      // Arrange
      const bytes = await versions[version]!(await readFile(file));

      // Act
      const { result } = await analyzer.analyze(bytes, { id: `${name}-${version}` });

      // Assess
      const flag = expected[version]!;
      expect(result.quality.flags).toContain(flag);
      expect(result.classification.withheld).toBe(true);
      expect(result.classification.withheldReasons).toContain(flag);
      if (version.includes('1-channel') || version.includes('16-bit'))
        expect(result.quality.greyscaleSource).toBe(true);
    },
    30_000,
  );
});
