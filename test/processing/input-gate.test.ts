// The input gate measured: NOT_DERMOSCOPIC must flag almost every ordinary non-dermoscopic
// picture and almost none of the ISIC 2017 Validation images (rates go to docs/quality-gate.md).
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import { QualityFlag } from '../../src/processing/quality.js';
import { createTestAnalyzer, REPO_ROOT, testModelPath } from '../helpers/model.js';
import { nonDermoscopicImages } from '../helpers/non-dermoscopic.js';

const VALIDATION = path.join(REPO_ROOT, '..', 'shared', 'data', 'isic2017', 'ISIC-2017_Validation_Data');
// The rates only mean something for the trained model (LESION_TEST_MODEL may point at a random one).
const trained = testModelPath() === path.join(REPO_ROOT, 'models', 'lesion-mtl.onnx');

async function flaggedRate(analyzer: LesionAnalyzer, images: { name: string; bytes: Buffer }[]) {
  const flagged: string[] = [];
  for (const img of images) {
    const a = await analyzer.analyze(img.bytes, { id: img.name });
    if (a.result.quality.flags.includes(QualityFlag.NOT_DERMOSCOPIC)) flagged.push(img.name);
  }
  return { rate: flagged.length / images.length, flagged };
}

(trained ? describe : describe.skip)('input gate: NOT_DERMOSCOPIC (trained model)', () => {
  let analyzer: LesionAnalyzer;
  beforeAll(async () => {
    analyzer = await createTestAnalyzer();
  });
  afterAll(async () => {
    await analyzer.dispose();
  });

  it('flags at least 90 % of ordinary non-dermoscopic pictures', async () => {
    const images = await nonDermoscopicImages();
    const { rate, flagged } = await flaggedRate(analyzer, images);
    console.log(
      `NOT_DERMOSCOPIC on ${images.length} non-dermoscopic pictures: ${(rate * 100).toFixed(1)} % (missed: ${
        images
          .filter((i) => !flagged.includes(i.name))
          .map((i) => i.name)
          .join(', ') || 'none'
      })`,
    );
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });

  it('flags none of the bundled samples', async () => {
    const dir = path.join(REPO_ROOT, 'samples');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg'));
    const images = await Promise.all(
      files.map(async (f) => ({ name: f, bytes: await readFile(path.join(dir, f)) })),
    );
    expect((await flaggedRate(analyzer, images)).flagged).toEqual([]);
  });

  (existsSync(VALIDATION) ? it : it.skip)(
    'flags at most 2 % of the ISIC 2017 Validation images',
    async () => {
      const files = (await readdir(VALIDATION)).filter((f) => f.endsWith('.jpg'));
      const images = await Promise.all(
        files.map(async (f) => ({ name: f, bytes: await readFile(path.join(VALIDATION, f)) })),
      );
      const { rate, flagged } = await flaggedRate(analyzer, images);
      console.log(
        `NOT_DERMOSCOPIC on ${images.length} ISIC Validation images: ${(rate * 100).toFixed(1)} % (${flagged.join(', ') || 'none'})`,
      );
      expect(rate).toBeLessThanOrEqual(0.02);
    },
    120_000,
  );
});
