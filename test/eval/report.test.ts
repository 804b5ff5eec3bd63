import { readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadIsic2017Split } from '../../src/eval/dataset.js';
import { evaluateDataset } from '../../src/eval/evaluate.js';
import type { EvaluationResult } from '../../src/eval/evaluate.js';
import {
  formatMetricsTable,
  formatThreshold,
  renderRocPng,
  renderRocSvg,
  renderWorstCasesPng,
  rocCurves,
  writeReports,
} from '../../src/eval/report.js';
import { FakePredictor, writeSyntheticIsicSplit } from './synthetic-dataset.js';

describe('reports of a synthetic evaluation', () => {
  let root: string;
  let result: EvaluationResult;

  beforeAll(async () => {
    root = await writeSyntheticIsicSplit('Validation');
    result = await evaluateDataset(await loadIsic2017Split(root, 'Validation'), new FakePredictor());
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('formatMetricsTable', () => {
    it('prints the headline Jaccard and both AUCs', () => {
      const table = formatMetricsTable(result.metrics, 'Synthetic');
      expect(table).toMatch(/^Synthetic: 4 images/);
      expect(table).toMatch(/Jaccard\s+0\.8333/); // 5/6
      expect(table).toMatch(/ROC AUC\s+0\.7500\s+0\.8333/);
      expect(table).toMatch(/Mean ROC AUC\s+0\.7917/); // 19/24
    });

    it('prints the value of the decision thresholds the classification rows are at', () => {
      const metrics = {
        ...result.metrics,
        classification: {
          ...result.metrics.classification,
          decisionThresholds: { melanoma: 0.23456789012345, seborrheicKeratosis: 0.5 },
        },
      };
      const table = formatMetricsTable(metrics);
      expect(table).toContain('at the decision threshold t: probability >= t');
      expect(table).toMatch(/Decision threshold t\s+0\.2346\s+0\.5\n/);
    });

    it('prints n/a for an undefined metric', () => {
      const metrics = { ...result.metrics, segmentation: { ...result.metrics.segmentation, jaccard: null } };
      expect(formatMetricsTable(metrics)).toMatch(/Jaccard\s+n\/a/);
    });
  });

  it('formats thresholds with at most 4 decimals', () => {
    expect([0.5, 0.31, 0.23456789012345, 0.99999].map(formatThreshold)).toEqual([
      '0.5',
      '0.31',
      '0.2346',
      '1',
    ]);
  });

  describe('ROC plot', () => {
    it('computes both curves from the per-image probabilities', () => {
      const [melanoma, keratosis] = rocCurves(result.perImage);
      expect(melanoma?.auc).toBe(0.75);
      expect(keratosis?.points).toHaveLength(4); // Infinity, 0.7, 0.3, 0.1
    });

    it('puts both AUCs and the chance diagonal in the legend', () => {
      const svg = renderRocSvg(rocCurves(result.perImage));
      expect(svg).toContain('Melanoma: AUC 0.750');
      expect(svg).toContain('Seborrheic keratosis: AUC 0.833');
      expect(svg).toContain('Chance: AUC 0.500');
      expect(svg).toContain('False positive rate');
    });

    it('says n/a for a class without positives', () => {
      const noPositives = result.perImage.map((p) => ({
        ...p,
        labels: { melanoma: 0 as const, seborrheic_keratosis: 0 as const },
      }));
      expect(renderRocSvg(rocCurves(noPositives))).toContain('Melanoma: AUC n/a');
    });

    it('rasterises to a PNG', async () => {
      const meta = await sharp(await renderRocPng(result.perImage)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 576, 592]);
    });
  });

  describe('worst-cases contact sheet', () => {
    it('draws the ground truth in green and the prediction in magenta', async () => {
      // Prepare: the worst case is ISIC_0000002 (32x24 scaled x8 into its 256x192 tile at (8, 42)):
      // truth x < 8 → right edge at tile x 63; prediction x < 16 → right edge at tile x 127
      const png = await renderWorstCasesPng(result.worstCases.slice(0, 1));

      // Act
      const { data, info } = await sharp(png ?? Buffer.alloc(0))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const pixel = (x: number, y: number): number[] => [
        ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
      ];

      // Assess
      expect([info.width, info.height]).toEqual([8 + 256 + 8, 34 + 8 + 192 + 22 + 8]);
      expect(pixel(8 + 63, 42 + 50)).toEqual([0, 230, 0]);
      expect(pixel(8 + 127, 42 + 50)).toEqual([255, 0, 255]);
    });

    it('lays the tiles out four to a row', async () => {
      const meta = await sharp((await renderWorstCasesPng(result.worstCases)) ?? Buffer.alloc(0)).metadata();
      // 3 cases → one row of 3 tiles
      expect([meta.width, meta.height]).toEqual([8 + 3 * (256 + 8), 34 + 8 + 192 + 22 + 8]);
    });

    it('is null without cases', async () => {
      expect(await renderWorstCasesPng([])).toBeNull();
    });
  });

  describe('writeReports', () => {
    it('writes metrics.json, roc.png and worst-cases.png', async () => {
      const outDir = path.join(await mkdtemp(path.join(tmpdir(), 'lesion-eval-out-')), 'reports');
      const written = await writeReports(result, outDir);
      expect(JSON.parse(await readFile(written.metricsJson, 'utf8'))).toEqual(result.metrics);
      expect((await sharp(written.rocPng).metadata()).format).toBe('png');
      expect(written.worstCasesPng).toBe(path.join(outDir, 'worst-cases.png'));
      await rm(path.dirname(outDir), { recursive: true, force: true });
    });
  });
});
