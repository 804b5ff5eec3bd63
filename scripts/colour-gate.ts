// The colour gate measured (docs/quality-gate.md): colour statistics and GREYSCALE /
// UNUSUAL_COLOURS flag rates of a folder of images, untouched and transformed the ways a
// wrong export or camera setting changes dermoscopy (greyscale, channels swapped, hue rotated,
// inverted). Thresholds are chosen on Training/Validation only; Test_v2 is reported once.
//
// usage: npx tsx scripts/colour-gate.ts <images dir> [--transforms all|none|a,b] [--limit N] [--dump out.json]
//   transforms: grey1 (1-channel JPEG), grey3 (R=G=B JPEG), bgr, hue60, hue90, hue180, hue270, invert
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_CONFIG } from '../src/config.js';
import { decodeImage, type RgbImage } from '../src/image/decode.js';
import {
  colourFlags,
  colourStatistics,
  DEFAULT_COLOUR_THRESHOLDS,
  type ColourStatistics,
} from '../src/processing/quality.js';

const MODEL_SIZE = { width: 256, height: 192 };

/** Re-encode a transformed preview as a JPEG (quality 90), as an export would. */
async function jpeg(img: RgbImage, data: Buffer = img.data): Promise<Buffer> {
  return sharp(data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function mapPixels(img: RgbImage, f: (r: number, g: number, b: number) => [number, number, number]): Buffer {
  const out = Buffer.alloc(img.data.length);
  for (let i = 0; i < img.data.length; i += 3) {
    const [r, g, b] = f(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  }
  return out;
}

const hue = (deg: number) => (img: RgbImage) =>
  sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .modulate({ hue: deg })
    .jpeg({ quality: 90 })
    .toBuffer();

export const TRANSFORMS: Record<string, (img: RgbImage) => Promise<Buffer>> = {
  grey1: (img) =>
    sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .greyscale()
      .toColourspace('b-w')
      .jpeg({ quality: 90 })
      .toBuffer(),
  grey3: (img) =>
    jpeg(
      img,
      mapPixels(img, (r, g, b) => {
        const y = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
        return [y, y, y];
      }),
    ),
  bgr: (img) =>
    jpeg(
      img,
      mapPixels(img, (r, g, b) => [b, g, r]),
    ),
  hue60: hue(60),
  hue90: hue(90),
  hue180: hue(180),
  hue270: hue(270),
  invert: (img) =>
    jpeg(
      img,
      mapPixels(img, (r, g, b) => [255 - r, 255 - g, 255 - b]),
    ),
};

interface Row {
  readonly file: string;
  readonly transform: string;
  readonly greyscaleSource: boolean;
  readonly colour: ColourStatistics;
  readonly flags: string[];
}

async function measure(file: string, transform: string, bytes: Uint8Array): Promise<Row> {
  const d = await decodeImage(bytes, DEFAULT_CONFIG, MODEL_SIZE);
  const colour = colourStatistics(d.modelInput.data, d.modelInput.width, d.modelInput.height);
  const flags = colourFlags({ colour, greyscaleSource: d.greyscaleSource }, DEFAULT_COLOUR_THRESHOLDS);
  return { file, transform, greyscaleSource: d.greyscaleSource, colour, flags };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const dir = process.argv[2];
if (!dir || dir.startsWith('--'))
  throw new Error(
    'usage: scripts/colour-gate.ts <images dir> [--transforms all|none|a,b] [--limit N] [--dump out.json]',
  );
const t = arg('--transforms') ?? 'all';
const transforms = t === 'all' ? Object.keys(TRANSFORMS) : t === 'none' ? [] : t.split(',');
const limit = Number(arg('--limit') ?? Infinity);
const files = (await readdir(dir))
  .filter((f) => /\.(jpe?g|png)$/i.test(f) && !f.includes('superpixels'))
  .sort()
  .slice(0, limit);
const rows: Row[] = [];
for (const f of files) {
  const bytes = await readFile(path.join(dir, f));
  rows.push(await measure(f, 'none', bytes));
  if (transforms.length === 0) continue;
  const d = await decodeImage(bytes, DEFAULT_CONFIG, MODEL_SIZE);
  for (const name of transforms) {
    const make = TRANSFORMS[name];
    if (!make) throw new Error(`unknown transform ${name}`);
    rows.push(await measure(f, name, await make(d.preview)));
  }
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))]!;
};
const fmt = (x: number) => x.toFixed(1);
console.log(`${dir} (${files.length} images)`);
console.log(
  'transform | n | GREYSCALE | UNUSUAL_COLOURS | either | meanChroma min/p1/p50 | hue p0/p1/p50/p99/p100',
);
for (const name of ['none', ...transforms]) {
  const rs = rows.filter((r) => r.transform === name);
  const count = (flag: string) => rs.filter((r) => r.flags.includes(flag)).length;
  const either = rs.filter((r) => r.flags.length > 0);
  const pct = (k: number) => `${k}/${rs.length} (${((100 * k) / rs.length).toFixed(1)} %)`;
  const chroma = rs.map((r) => r.colour.meanChroma);
  const hues = rs.map((r) => r.colour.hueDegrees);
  console.log(
    `${name} | ${rs.length} | ${pct(count('GREYSCALE'))} | ${pct(count('UNUSUAL_COLOURS'))} | ${pct(either.length)} | ` +
      `${fmt(q(chroma, 0))}/${fmt(q(chroma, 0.01))}/${fmt(q(chroma, 0.5))} | ` +
      `${[0, 0.01, 0.5, 0.99, 1].map((p) => fmt(q(hues, p))).join('/')}`,
  );
  if (name === 'none' && either.length > 0)
    console.log(`  flagged untouched: ${either.map((r) => `${r.file} ${r.flags.join('+')}`).join(', ')}`);
}
const out = arg('--dump');
if (out) await writeFile(out, JSON.stringify(rows));
