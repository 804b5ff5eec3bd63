import sharp, { type Sharp } from 'sharp';
import type { Plane } from '../processing/mask.js';
import { outline } from '../processing/mask.js';
import type { RgbImage } from './decode.js';

/** Outline colour drawn on the clinician overlay (high contrast on skin tones). */
export const OVERLAY_COLOUR = [0, 255, 96] as const;

function planeInput(p: Plane): Sharp {
  return sharp(p.data, { raw: { width: p.width, height: p.height, channels: 1 } });
}

/**
 * Upsample probability bytes bilinearly to (width, height) and binarise at > threshold,
 * all inside libvips on uint8. Returns a 0/1 plane.
 */
export async function upsampleMask(
  prob: Plane,
  width: number,
  height: number,
  threshold = 128,
): Promise<Plane> {
  const raw = await planeInput(prob)
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]! > threshold ? 1 : 0;
  return { data: out, width, height };
}

/**
 * The lesion mask PNG at the original resolution: 1 channel, 0/255, value > threshold.
 * sharp's threshold(t) sets >= t to 255, so t + 1 gives the ISIC "> 128" rule.
 */
export async function encodeMaskPng(
  prob: Plane,
  width: number,
  height: number,
  threshold = 128,
): Promise<Buffer> {
  return planeInput(prob)
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .threshold(threshold + 1)
    .toColourspace('b-w')
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

/** Encode a 0/1 plane as a 1-channel 0/255 PNG. */
export async function encodeBinaryPng(mask: Plane): Promise<Buffer> {
  const bytes = new Uint8Array(mask.data.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = mask.data[i] ? 255 : 0;
  return sharp(bytes, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
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

/** The clinician overlay PNG: the preview image with the lesion outline. */
export async function encodeOverlayPng(preview: RgbImage, mask: Plane): Promise<Buffer> {
  const drawn = drawOutline(preview, mask);
  return sharp(drawn.data, { raw: { width: drawn.width, height: drawn.height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

/**
 * Read a mask image (file path or bytes, any channel count) as a 0/1 plane: first channel,
 * binarised at > threshold (a grey PNG decodes to 3 channels unless one is extracted).
 */
export async function readMaskPng(input: string | Uint8Array, threshold = 128): Promise<Plane> {
  const { data, info } = await sharp(input)
    .extractChannel(0)
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! > threshold ? 1 : 0;
  return { data: out, width: info.width, height: info.height };
}
