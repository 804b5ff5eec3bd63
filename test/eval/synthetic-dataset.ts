/**
 * A tiny dataset in ISIC 2017 layout, written to a temp dir by the tests, and a fake predictor with
 * known outputs. Four 32x24 images: three with masks (one of them empty), one without.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { isic2017SplitPaths, type Isic2017Split } from '../../src/eval/dataset.js';
import type { EvalPrediction, Predictor } from '../../src/eval/evaluate.js';

export const WIDTH = 32;
export const HEIGHT = 24;

/** 0/1 mask with the rectangle [x0, x1) x [y0, y1) set. */
export function rectangleMask(x0: number, x1: number, y0: number, y1: number): Uint8Array {
  const mask = new Uint8Array(WIDTH * HEIGHT);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * WIDTH + x] = 1;
  return mask;
}

export const EMPTY_MASK = new Uint8Array(WIDTH * HEIGHT);

export interface SyntheticImage {
  readonly id: string;
  /** Ground truth, or `null` for an image without a mask file. */
  readonly truth: Uint8Array | null;
  readonly predicted: Uint8Array;
  readonly labels: { readonly melanoma: 0 | 1; readonly seborrheic_keratosis: 0 | 1 };
  readonly probabilities: EvalPrediction['probabilities'];
}

/**
 * Hand-computed expectations are in test/eval/evaluate.test.ts. Masks (32 x 24 = 768 pixels):
 * - 0000001: truth = predicted = left half (x < 16)                   → Jaccard 1
 * - 0000002: truth x < 8, y < 12 (96 px); predicted x < 16, y < 12 (192 px) → TP 96, FP 96, FN 0, TN 576
 * - 0000003: truth and prediction empty                                → every score 1
 * - 0000004: no ground-truth mask
 */
export const SYNTHETIC_IMAGES: readonly SyntheticImage[] = [
  {
    id: 'ISIC_0000001',
    truth: rectangleMask(0, 16, 0, 24),
    predicted: rectangleMask(0, 16, 0, 24),
    labels: { melanoma: 1, seborrheic_keratosis: 0 },
    probabilities: { melanoma: 0.9, seborrheic_keratosis: 0.1 },
  },
  {
    id: 'ISIC_0000002',
    truth: rectangleMask(0, 8, 0, 12),
    predicted: rectangleMask(0, 16, 0, 12),
    labels: { melanoma: 0, seborrheic_keratosis: 1 },
    probabilities: { melanoma: 0.2, seborrheic_keratosis: 0.7 },
  },
  {
    id: 'ISIC_0000003',
    truth: EMPTY_MASK,
    predicted: EMPTY_MASK,
    labels: { melanoma: 0, seborrheic_keratosis: 0 },
    probabilities: { melanoma: 0.6, seborrheic_keratosis: 0.7 },
  },
  {
    id: 'ISIC_0000004',
    truth: null,
    predicted: EMPTY_MASK,
    labels: { melanoma: 1, seborrheic_keratosis: 0 },
    probabilities: { melanoma: 0.5, seborrheic_keratosis: 0.3 },
  },
];

export async function writeMaskPng(file: string, mask: Uint8Array): Promise<void> {
  const grey = Buffer.from(mask.map((v) => v * 255));
  await sharp(grey, { raw: { width: WIDTH, height: HEIGHT, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

async function writeImageJpeg(file: string, seed: number): Promise<void> {
  const rgb = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let i = 0; i < WIDTH * HEIGHT; i++) {
    rgb[i * 3] = 150 + seed * 20;
    rgb[i * 3 + 1] = 100 + (i % WIDTH) * 2;
    rgb[i * 3 + 2] = 80;
  }
  await sharp(rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
    .jpeg()
    .toFile(file);
}

/** `<root>/ISIC-2017_<split>_{Data,Part1_GroundTruth,Part3_GroundTruth.csv}` with CRLF and `0.0`/`1.0`. */
export async function writeSyntheticIsicSplit(
  split: Isic2017Split = 'Validation',
  images: readonly SyntheticImage[] = SYNTHETIC_IMAGES,
): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'lesion-eval-'));
  const { images: dataDir, masks: maskDir, labels } = isic2017SplitPaths(root, split);
  await mkdir(dataDir);
  await mkdir(maskDir);
  let csv = 'image_id,melanoma,seborrheic_keratosis\r\n';
  for (const [i, image] of images.entries()) {
    await writeImageJpeg(path.join(dataDir, `${image.id}.jpg`), i);
    if (image.truth !== null)
      await writeMaskPng(path.join(maskDir, `${image.id}_segmentation.png`), image.truth);
    csv += `${image.id},${image.labels.melanoma.toFixed(1)},${image.labels.seborrheic_keratosis.toFixed(1)}\r\n`;
  }
  await writeFile(labels, csv);
  return root;
}

/** Answers from {@link SYNTHETIC_IMAGES} by file name and records the calls it got. */
export class FakePredictor implements Predictor {
  readonly calls: { imagePath: string; maskSize: { width: number; height: number } | null }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly images: readonly SyntheticImage[] = SYNTHETIC_IMAGES,
    private readonly delayMs = 5,
  ) {}

  async predict(
    imagePath: string,
    maskSize: { width: number; height: number } | null,
  ): Promise<EvalPrediction & { mask: Uint8Array | null }> {
    this.calls.push({ imagePath, maskSize });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.inFlight--;
    const image = this.images.find((i) => i.id === path.parse(imagePath).name);
    if (image === undefined) throw new Error(`unknown image ${imagePath}`);
    return { probabilities: image.probabilities, mask: maskSize === null ? null : image.predicted };
  }
}
