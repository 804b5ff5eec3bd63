// Markdown table of `lesion eval --json` outputs, side by side (for the model card and README).
// usage: npx tsx scripts/eval-table.ts Validation=docs/eval/validation.json Test_v2=docs/eval/test_v2.json
import { readFile } from 'node:fs/promises';
import type { EvaluationMetrics } from '../src/eval/evaluate.js';

const columns = await Promise.all(
  process.argv.slice(2).map(async (arg) => {
    const [name, file] = arg.split('=') as [string, string];
    return { name, m: JSON.parse(await readFile(file, 'utf8')) as EvaluationMetrics };
  }),
);
const f = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
const rows: [string, (m: EvaluationMetrics) => number | null][] = [
  ['images', (m) => m.n],
  ['mean Jaccard', (m) => m.segmentation.jaccard],
  ['thresholded Jaccard (2018)', (m) => m.segmentation.thresholdedJaccard],
  ['Dice', (m) => m.segmentation.dice],
  ['pixel accuracy', (m) => m.segmentation.accuracy],
  ['pixel sensitivity', (m) => m.segmentation.sensitivity],
  ['pixel specificity', (m) => m.segmentation.specificity],
  ['melanoma AUC', (m) => m.classification.melanoma.auc],
  ['melanoma average precision', (m) => m.classification.melanoma.averagePrecision],
  ['melanoma specificity @ 82/89/95 % sens.', () => null],
  ['SK AUC', (m) => m.classification.seborrheicKeratosis.auc],
  ['SK average precision', (m) => m.classification.seborrheicKeratosis.averagePrecision],
  ['SK specificity @ 82/89/95 % sens.', () => null],
  ['mean AUC', (m) => m.classification.meanAuc],
];
const spec = (c: EvaluationMetrics['classification']['melanoma']) =>
  ['0.82', '0.89', '0.95'].map((k) => f((c.specificityAt as Record<string, number | null>)[k])).join(' / ');
console.log(`| metric | ${columns.map((c) => c.name).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---').join('|')}|`);
for (const [label, get] of rows) {
  const cells = columns.map(({ m }) => {
    if (label.startsWith('melanoma specificity')) return spec(m.classification.melanoma);
    if (label.startsWith('SK specificity')) return spec(m.classification.seborrheicKeratosis);
    const v = get(m);
    return label === 'images' ? String(v) : f(v);
  });
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}
