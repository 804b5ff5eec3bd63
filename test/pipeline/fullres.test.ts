import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { LocalPipeline } from '../../src/local/pipeline.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { AnalysisResult } from '../../src/results/result.js';
import { resultKeys } from '../../src/results/keys.js';
import { FULLRES_DIR, fullResImages } from '../helpers/fullres.js';
import { pngHeader } from '../helpers/images.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { getBytes, getJson } from '../helpers/s3.js';
import { resultSchemaErrors } from '../helpers/schema.js';

const images = fullResImages();
const describeIfData = images.length > 0 ? describe : describe.skip;
if (images.length === 0) {
  console.log(
    `full-resolution end-to-end test skipped: no images in ${FULLRES_DIR} (set LESION_FULLRES_DIR)`,
  );
}

describeIfData(`full-resolution uploads through LocalPipeline (${images.length} images)`, () => {
  let analyzer: LesionAnalyzer;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    analyzer = await createTestAnalyzer();
    pipeline = await LocalPipeline.start({ analyzer, config: analyzer.config });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await analyzer?.dispose();
  });

  it(
    'writes every mask at its image’s exact displayed size',
    async () => {
      for (const file of images) {
        const bytes = await readFile(file);
        await pipeline.upload(`uploads/${path.basename(file)}`, bytes, 'image/jpeg');
        await pipeline.drain(); // one at a time: bounded memory with 20+ MP photos

        const keys = resultKeys(path.basename(file), 'results/');
        const meta = await sharp(bytes).metadata();
        const swap = (meta.orientation ?? 1) >= 5;
        const [w, h] = swap ? [meta.height!, meta.width!] : [meta.width!, meta.height!];
        const result = await getJson<AnalysisResult>(pipeline.s3.client, pipeline.bucket, keys.result);
        expect(resultSchemaErrors(result)).toEqual([]);
        expect([result.image.width, result.image.height]).toEqual([w, h]);
        const mask = pngHeader(await getBytes(pipeline.s3.client, pipeline.bucket, keys.mask));
        expect({ file: path.basename(file), ...mask }).toEqual({
          file: path.basename(file),
          width: w,
          height: h,
          bitDepth: 8,
          colourType: 0,
        });
      }
      expect(pipeline.deadLetters).toEqual([]);
      expect(pipeline.outcomes.every((o) => o.status === 'ok')).toBe(true);
    },
    30 * 60_000,
  );
});
