// Distribution of the quality-gate statistics over a dataset in ISIC layout, at the model's
// input size: the evidence for DEFAULT_QUALITY_THRESHOLDS (docs/quality-gate.md).
// usage: npx tsx scripts/quality-stats.ts <images dir> [width height]
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeImage } from '../src/image/decode.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { imageStatistics } from '../src/processing/quality.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: scripts/quality-stats.ts <images dir> [width height]');
const size = { width: Number(process.argv[3] ?? 256), height: Number(process.argv[4] ?? 192) };
const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
const stats = [];
for (const f of files) {
  const img = await decodeImage(await readFile(path.join(dir, f)), DEFAULT_CONFIG, size);
  stats.push(imageStatistics(img.modelInput.data, size.width, size.height));
}
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))]!;
};
for (const k of ['meanLuma', 'darkFraction', 'brightFraction', 'laplacianVariance'] as const) {
  const xs = stats.map((s) => s[k]);
  console.log(
    `${k.padEnd(18)} min ${q(xs, 0).toFixed(3)}  p1 ${q(xs, 0.01).toFixed(3)}  p50 ${q(xs, 0.5).toFixed(3)}  p99 ${q(xs, 0.99).toFixed(3)}  max ${q(xs, 1).toFixed(3)}  (n=${xs.length})`,
  );
}
