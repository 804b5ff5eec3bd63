import sharp from 'sharp';
import type { Plane } from '../processing/mask.js';
import { binarize, MASK_THRESHOLD, outline, upsampleBinary } from '../processing/mask.js';
import { encodeGreyPng } from './png.js';
import type { RgbImage } from './decode.js';

/** Outline colour drawn on the clinician overlay (high contrast on skin tones). */
export const OVERLAY_COLOUR = [0, 255, 96] as const;

/**
 * The lesion mask PNG at the original resolution, in the ISIC ground-truth format (8-bit
 * greyscale, 0/255): probability bytes upsampled bilinearly and binarised at > threshold.
 */
export function encodeMaskPng(
  prob: Plane,
  width: number,
  height: number,
  threshold = MASK_THRESHOLD,
): Promise<Buffer> {
  return encodeGreyPng(upsampleBinary(prob, width, height, threshold, 255));
}

/** Draw the outline of a 0/1 mask (same size as the image) on a copy of the image. */
export function drawOutline(
  image: RgbImage,
  mask: Plane,
  colour: readonly [number, number, number] = OVERLAY_COLOUR,
): RgbImage {
  const thickness = Math.max(2, Math.round(Math.max(image.width, image.height) / 300));
  const edge = outline(mask, thickness);
  const data = Buffer.from(image.data);
  for (let i = 0; i < edge.data.length; i++) {
    if (!edge.data[i]) continue;
    data[3 * i] = colour[0];
    data[3 * i + 1] = colour[1];
    data[3 * i + 2] = colour[2];
  }
  return { data, width: image.width, height: image.height };
}

/**
 * The clinician overlay: the preview photo with the lesion outline, as JPEG (a photo: a tenth
 * of the PNG's bytes and a third of its encode time at 1024x768).
 */
export async function encodeOverlayJpeg(preview: RgbImage, mask: Plane): Promise<Buffer> {
  const drawn = drawOutline(preview, mask);
  return sharp(drawn.data, { raw: { width: drawn.width, height: drawn.height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/**
 * Read a mask image (file path or bytes, any channel count) as a 0/1 plane: first channel,
 * binarised at > threshold (a grey PNG decodes to 3 channels unless one is extracted).
 */
export async function readMaskPng(input: string | Uint8Array, threshold = MASK_THRESHOLD): Promise<Plane> {
  const { data, info } = await sharp(input)
    .extractChannel(0)
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return binarize({ data, width: info.width, height: info.height }, threshold);
}
