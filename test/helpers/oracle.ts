/**
 * A stand-in onnxruntime session with a known answer: "lesion = dark pixels" (mean of R, G, B
 * below 100), computed on the very model input it receives. With it, the geometry of the whole
 * pipeline (EXIF orientation, the portrait rotation for the model and back, resizing to the
 * original resolution) can be checked exactly, which the random smoke model cannot do.
 */
import type { LesionSession, ModelOutputs } from '../../src/inference/session.js';
import type { ModelContract } from '../../src/model/contract.js';
import sharp from 'sharp';

export function darkPixelSession(contract: ModelContract): LesionSession {
  const { width, height } = contract.input;
  return {
    contract,
    provider: 'cpu',
    async run(images: Uint8Array, batch: number): Promise<ModelOutputs> {
      const n = batch * width * height;
      const mask = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const mean = (images[3 * i]! + images[3 * i + 1]! + images[3 * i + 2]!) / 3;
        mask[i] = mean < 100 ? 8 : -8;
      }
      return {
        batch,
        height,
        width,
        mask,
        scores: new Float32Array(batch * contract.classes.length),
        oodScore: null,
      };
    },
    async dispose() {},
  };
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Raw RGB pixels of a light image with one dark rectangle. */
export function darkRectPixels(width: number, height: number, rect: Rect): Buffer {
  const data = Buffer.alloc(width * height * 3, 210);
  for (let y = rect.y; y < rect.y + rect.height; y++)
    data.fill(30, 3 * (y * width + rect.x), 3 * (y * width + rect.x + rect.width));
  return data;
}

/**
 * A JPEG that DISPLAYS as width x height with the dark rectangle where given, stored rotated
 * with EXIF `orientation` (1 = stored as displayed; 6 = stored turned 90° counter-clockwise).
 */
export async function darkRectJpeg(
  width: number,
  height: number,
  rect: Rect,
  orientation: 1 | 6 = 1,
): Promise<Buffer> {
  const displayed = sharp(darkRectPixels(width, height, rect), { raw: { width, height, channels: 3 } });
  if (orientation === 1) return displayed.jpeg({ quality: 95 }).toBuffer();
  const stored = await displayed.rotate(270).png().toBuffer();
  return sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
}

/** Intersection over union of a 0/255 (or 0/1) mask with a rectangle. */
export function iouWithRect(mask: { data: Uint8Array; width: number }, rect: Rect): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < mask.data.length; i++) {
    const x = i % mask.width;
    const y = (i - x) / mask.width;
    const inRect = x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
    const inMask = mask.data[i]! > 0;
    if (inRect && inMask) inter++;
    if (inRect || inMask) union++;
  }
  return union === 0 ? 1 : inter / union;
}
