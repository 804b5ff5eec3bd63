// sharp lives in src/image/ only.
import sharp, { type Metadata } from 'sharp';
import { ErrorCode, InputError, type InputErrorCode } from '../errors.js';
import { countJpegScans } from './jpeg-scans.js';

/**
 * Formats sharp may report for a readable upload; everything else is UNSUPPORTED_FORMAT. `heif`
 * is there for AVIF (AV1 in a HEIF container, which sharp reports as heif): HEVC-compressed HEIF
 * (HEIC, the iPhone default) cannot be decoded by this sharp build and is refused.
 */
export const SUPPORTED_FORMATS = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'avif'] as const;

/**
 * The formats messages name as readable: exactly those the upload API accepts
 * (src/api/types.ts UPLOAD_CONTENT_TYPES). HEIC is not among them.
 */
export const READABLE_FORMATS_TEXT = 'JPEG, PNG, WebP, TIFF or AVIF';

export interface DecodeLimits {
  readonly maxPixels: number;
  readonly minSide: number;
  readonly maxAspectRatio: number;
  /** Longest side of the retained display-orientation copy (overlay base). */
  readonly overlayMaxSide: number;
  /** JPEG scans above which the upload is DECODE_TOO_EXPENSIVE (counted before decoding). @default 100 */
  readonly maxJpegScans?: number;
  /** Time budget of one decode in ms; 0 = none. @default 10000 */
  readonly decodeTimeoutMs?: number;
}

export const DEFAULT_MAX_JPEG_SCANS = 100;
export const DEFAULT_DECODE_TIMEOUT_MS = 10_000;

export interface RgbImage {
  /** Interleaved 8-bit sRGB, 3 channels, row-major. */
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

export interface DecodedImage {
  /** Source format as sharp reports it (jpeg, png, …). */
  readonly format: string;
  /** Size as displayed, i.e. after EXIF orientation: the size of the output mask. */
  readonly width: number;
  readonly height: number;
  /** EXIF orientation tag (1 = none). */
  readonly exifOrientation: number;
  /** True when the displayed image is portrait and was rotated 90° clockwise for the model. */
  readonly rotatedForModel: boolean;
  /** Colour facts worth flagging: the conversions applied to reach 8-bit sRGB. */
  readonly conversions: readonly string[];
  /** The source had a single colour channel (b-w / grey16 colourspace, grey or grey + alpha). */
  readonly greyscaleSource: boolean;
  /** Display-orientation copy, long side <= overlayMaxSide (never upscaled). */
  readonly preview: RgbImage;
  /** Model input: landscape, exactly the contract's width x height. */
  readonly modelInput: RgbImage;
}

function inputError(code: InputErrorCode, message: string, cause?: unknown): InputError {
  return new InputError(code, message, { cause });
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

/**
 * The image format named by the first bytes (magic numbers), or null. Used only to tell a
 * damaged image from a non-image when the header cannot be parsed.
 *
 * @example
 * sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0])) // 'jpeg'
 */
export function sniffImageFormat(
  bytes: Uint8Array,
): 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'heif' | null {
  const ascii = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\x00' || ascii(0, 4) === 'MM\x00*') return 'tiff';
  if (ascii(4, 8) === 'ftyp' && HEIF_BRANDS.has(ascii(8, 12))) return 'heif';
  return null;
}

/** Fit (w, h) inside a box of longest side `max`, never upscaling. */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Decode an upload once: header checks first (format, frames, pixel budget — before any pixel
 * is decoded, so a decompression bomb costs nothing), then one decode with shrink-on-load to
 * the preview size, then the model input from that preview.
 *
 * @example
 * const img = await decodeImage(bytes, { maxPixels: 60e6, minSide: 32, maxAspectRatio: 4, overlayMaxSide: 1024 }, { width: 256, height: 192 });
 */
export function decodeImage(
  bytes: Uint8Array,
  limits: DecodeLimits,
  modelSize: { width: number; height: number },
): Promise<DecodedImage> {
  const budgetMs = limits.decodeTimeoutMs ?? DEFAULT_DECODE_TIMEOUT_MS;
  return withinBudget(decodeUnbounded(bytes, limits, modelSize, budgetMs), budgetMs);
}

/** The error of an upload whose decode ran past its time budget. */
function overBudget(budgetMs: number, cause?: unknown): InputError {
  return inputError(
    ErrorCode.DECODE_TOO_EXPENSIVE,
    `Decoding the image took longer than the ${(budgetMs / 1000).toFixed(1)} s allowed for one upload; save it as a standard JPEG or PNG and upload it again.`,
    cause,
  );
}

/**
 * Settle with `work`, or reject with DECODE_TOO_EXPENSIVE once `budgetMs` have passed (0 = no
 * budget). libjpeg cannot be interrupted inside a scan, so an abandoned decode finishes on its
 * worker thread; the scan cap keeps that bounded, the budget keeps the batch answered.
 */
export function withinBudget<T>(work: Promise<T>, budgetMs: number): Promise<T> {
  if (budgetMs <= 0) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(overBudget(budgetMs)), budgetMs);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function decodeUnbounded(
  bytes: Uint8Array,
  limits: DecodeLimits,
  modelSize: { width: number; height: number },
  budgetMs: number,
): Promise<DecodedImage> {
  if (bytes.length === 0) throw inputError(ErrorCode.EMPTY_OBJECT, 'The uploaded object is empty (0 bytes).');
  // Each scan of a progressive JPEG is a full pass over the image, and libjpeg cannot be
  // stopped inside one: count them from the markers before decoding anything.
  const maxScans = limits.maxJpegScans ?? DEFAULT_MAX_JPEG_SCANS;
  const scans = countJpegScans(bytes, maxScans);
  if (scans && scans.scans > maxScans) {
    throw inputError(
      ErrorCode.DECODE_TOO_EXPENSIVE,
      `The JPEG has more than ${maxScans} scans (progressive passes, each a full pass over the image); save it as a standard JPEG and upload it again.`,
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    // A recognised signature whose header cannot be parsed is a damaged file (e.g. an upload
    // cut short), not a foreign format.
    const sniffed = sniffImageFormat(bytes);
    if (sniffed) {
      throw inputError(
        ErrorCode.CORRUPT_IMAGE,
        `The ${sniffed.toUpperCase()} file is damaged or truncated and cannot be decoded.`,
        cause,
      );
    }
    throw inputError(
      ErrorCode.UNSUPPORTED_FORMAT,
      `The upload is not an image format we can read (expected ${READABLE_FORMATS_TEXT}; export HEIC photos as JPEG first).`,
      cause,
    );
  }
  const format = meta.format ?? 'unknown';
  if (!(SUPPORTED_FORMATS as readonly string[]).includes(format)) {
    throw inputError(
      ErrorCode.UNSUPPORTED_FORMAT,
      `Images in ${format.toUpperCase()} format are not supported; upload a ${READABLE_FORMATS_TEXT} photo.`,
    );
  }
  if ((meta.pages ?? 1) > 1) {
    throw inputError(
      ErrorCode.UNSUPPORTED_FORMAT,
      `The upload has ${meta.pages} frames (animated or multi-page); upload a single still photo.`,
    );
  }
  const rawW = meta.width ?? 0;
  const rawH = meta.height ?? 0;
  if (rawW * rawH > limits.maxPixels) {
    throw inputError(
      ErrorCode.TOO_LARGE,
      `The image is ${rawW}x${rawH} (${((rawW * rawH) / 1e6).toFixed(1)} MP), above the ${(limits.maxPixels / 1e6).toFixed(0)} MP limit.`,
    );
  }
  const orientation = meta.orientation ?? 1;
  const swap = orientation >= 5 && orientation <= 8;
  const width = swap ? rawH : rawW;
  const height = swap ? rawW : rawH;
  if (Math.min(width, height) < limits.minSide) {
    throw inputError(
      ErrorCode.TOO_SMALL,
      `The image is ${width}x${height}; the shorter side must be at least ${limits.minSide} pixels.`,
    );
  }
  const aspect = Math.max(width, height) / Math.min(width, height);
  if (aspect > limits.maxAspectRatio) {
    throw inputError(
      ErrorCode.UNSUPPORTED_ASPECT_RATIO,
      `The image is ${width}x${height} (${aspect.toFixed(1)}:1); dermoscopy photos are at most ${limits.maxAspectRatio}:1.`,
    );
  }

  const conversions: string[] = [];
  if (meta.space && meta.space !== 'srgb') conversions.push(`colourspace ${meta.space} -> srgb`);
  if (meta.hasAlpha) conversions.push('alpha flattened on black');
  if (meta.depth && meta.depth !== 'uchar') conversions.push(`depth ${meta.depth} -> 8-bit`);
  if (orientation !== 1) conversions.push(`exif orientation ${orientation} applied`);

  const pv = fitWithin(width, height, limits.overlayMaxSide);
  let preview: RgbImage;
  try {
    let pipeline = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error' });
    // libvips stops its own work at this clock (not libjpeg's scans: see withinBudget)
    if (budgetMs > 0) pipeline = pipeline.timeout({ seconds: Math.min(3600, Math.ceil(budgetMs / 1000)) });
    const { data, info } = await pipeline
      .rotate() // EXIF orientation → display orientation
      .resize(pv.width, pv.height, { fit: 'fill', fastShrinkOnLoad: true })
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    preview = { data, width: info.width, height: info.height };
  } catch (cause) {
    if (budgetMs > 0 && /\btimeout\b/.test((cause as Error).message)) throw overBudget(budgetMs, cause);
    if (format === 'heif' && meta.compression === 'hevc') {
      // sharp's prebuilt libheif reads HEIC headers but has no HEVC decoder
      throw inputError(
        ErrorCode.UNSUPPORTED_FORMAT,
        'HEIC photos (HEVC-compressed HEIF, the iPhone default) cannot be decoded here; export the photo as JPEG and upload it again.',
        cause,
      );
    }
    throw inputError(
      ErrorCode.CORRUPT_IMAGE,
      `The ${format.toUpperCase()} file is damaged or truncated and cannot be decoded.`,
      cause,
    );
  }
  const rotatedForModel = height > width;
  const modelInput = await toModelInput(preview, modelSize, rotatedForModel);
  return {
    format,
    width,
    height,
    exifOrientation: orientation,
    rotatedForModel,
    conversions,
    greyscaleSource: meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2,
    preview,
    modelInput,
  };
}

/** Resize (and for portrait images rotate 90° clockwise) to the model's landscape input. */
export async function toModelInput(
  preview: RgbImage,
  size: { width: number; height: number },
  rotate: boolean,
): Promise<RgbImage> {
  let img = sharp(preview.data, { raw: { width: preview.width, height: preview.height, channels: 3 } });
  if (rotate) img = img.rotate(90);
  const data = await img.resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer();
  return { data, width: size.width, height: size.height };
}
