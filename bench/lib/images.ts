import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { BenchImage, SkippedRow } from './types.js';

/** The sizes the end-to-end table stands for: the ISIC 256x192 copies and two real upload sizes. */
export const TARGETS = [
  { name: '1024x768', width: 1024, height: 768 },
  { name: '4288x2848', width: 4288, height: 2848 },
] as const;

const IMAGE_EXT = /\.(jpe?g|png|tiff?|webp)$/i;
const MASK_NAME = /(segmentation|_mask|superpixels)/i;

/** Every image file under `dir` (recursively), masks excluded. */
async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listImages(p)));
    else if (IMAGE_EXT.test(entry.name) && !MASK_NAME.test(entry.name)) out.push(p);
  }
  return out.sort();
}

/** Pixel-count distance on a log scale: 1024x768 is as far from 512x384 as from 2048x1536. */
export function sizeDistance(
  a: { width: number; height: number },
  b: { width: number; height: number },
): number {
  return Math.abs(Math.log((a.width * a.height) / (b.width * b.height)));
}

async function describe(
  p: string,
  kind: BenchImage['kind'],
  label: string,
  target: string,
): Promise<BenchImage> {
  const meta = await sharp(p).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    label,
    kind,
    path: p,
    width: (swap ? meta.height : meta.width) ?? 0,
    height: (swap ? meta.width : meta.height) ?? 0,
    bytes: (await stat(p)).size,
    target,
  };
}

export interface ImageSet {
  readonly images: BenchImage[];
  readonly skipped: SkippedRow[];
  readonly notes: string[];
}

/**
 * The sample, then for each target size the closest real upload from `fullresDir` when that
 * folder exists, else a skipped row plus a synthetic stand-in: the sample upscaled with sharp
 * (Lanczos) to the target size and saved as a quality-90 JPEG in `tmpDir`. Upscaled images are
 * smoother than photos, so their JPEGs are smaller and decode faster than real uploads of the
 * same size; they measure the pixel-count costs (resize, mask upsample, PNG encode) faithfully.
 */
export async function prepareImages(opts: {
  samplePath: string;
  fullresDir: string;
  tmpDir: string;
}): Promise<ImageSet> {
  const images: BenchImage[] = [];
  const skipped: SkippedRow[] = [];
  const notes: string[] = [];
  images.push(
    await describe(opts.samplePath, 'sample', `sample ${path.basename(opts.samplePath)}`, '256x192'),
  );

  let real: BenchImage[] = [];
  if (existsSync(opts.fullresDir)) {
    real = await Promise.all(
      (await listImages(opts.fullresDir)).map((p) =>
        describe(p, 'real', `real upload ${path.basename(p)}`, ''),
      ),
    );
    if (real.length === 0) notes.push(`${opts.fullresDir} has no images`);
  } else {
    notes.push(
      `${opts.fullresDir} not found: real-upload rows skipped, synthetic (upscaled sample) rows added`,
    );
  }
  const sample = await readFile(opts.samplePath);
  for (const t of TARGETS) {
    const best = [...real].sort((a, b) => sizeDistance(a, t) - sizeDistance(b, t))[0];
    if (best) {
      images.push({ ...best, target: t.name });
      continue;
    }
    skipped.push({
      label: `real upload ~${t.name}`,
      target: t.name,
      skipped: 'no full-resolution samples on this machine',
    });
    const out = path.join(opts.tmpDir, `synthetic-${t.name}.jpg`);
    await writeFile(
      out,
      await sharp(sample)
        .resize(t.width, t.height, { fit: 'fill', kernel: 'lanczos3' })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
    images.push(await describe(out, 'synthetic', `synthetic (upscaled sample) ${t.name}`, t.name));
  }
  return { images, skipped, notes };
}
