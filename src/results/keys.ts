import { createHash } from 'node:crypto';
import { ErrorCode, InputError } from '../errors.js';

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Longest image id, and longest segment of one. S3 keys hold at most 1,024 bytes: an id of at
 * most 512 ASCII characters leaves room for any results prefix up to MAX_RESULTS_PREFIX_BYTES
 * and the longest output name. A segment of at most 200 stays a valid file name (255 bytes) in
 * the local S3 server's storage and in the local run's --out folder.
 */
export const MAX_IMAGE_ID_LENGTH = 512;
export const MAX_IMAGE_ID_SEGMENT_LENGTH = 200;
/** Longest results prefix (bytes) the configuration accepts: prefix + id + '/' + name <= 1,024. */
export const MAX_RESULTS_PREFIX_BYTES = 256;

const hashOf = (key: string, hexDigits: number) =>
  createHash('sha256').update(key).digest('hex').slice(0, hexDigits);

/**
 * An id that does not fit (too long, or a segment too long): its readable head, every segment
 * cut to leave room, then '~' and 16 hex digits (64 bits) of the full key's hash. The 16-digit
 * suffix sets it apart from a changed id ('~' + 10 digits) and from a kept one (no '~').
 */
function shortenedImageId(segments: readonly string[], key: string): string {
  const suffix = `~${hashOf(key, 16)}`;
  const head = segments
    .map((s) => s.slice(0, MAX_IMAGE_ID_SEGMENT_LENGTH - suffix.length))
    .join('/')
    .slice(0, MAX_IMAGE_ID_LENGTH - suffix.length)
    .split('/')
    .filter((s) => s !== '' && !/^\.+$/.test(s)); // a cut can leave '', '.' or '..'
  return `${head.length > 0 ? head.join('/') : '_'}${suffix}`;
}

/**
 * The image id of an upload key (result.json's `image.id`, the event's `imageId`), which names
 * the folder of the upload's outputs: the key below the uploads prefix with each path segment
 * reduced to [A-Za-z0-9._-]; '.'/'..' segments are replaced. When anything had to change, '~' and
 * a hash of the original key are appended, so two different keys can never share results: a
 * key kept as it is has no '~' (not a safe character), so it cannot look like a changed one.
 * An id longer than MAX_IMAGE_ID_LENGTH (or with a segment over MAX_IMAGE_ID_SEGMENT_LENGTH) is
 * shortened to its head + '~' + a 16-digit hash, so every result key fits S3's 1,024 bytes.
 *
 * @example
 * imageIdFromKey('uploads/clinic 1/ISIC_1.jpg', 'uploads/') // 'clinic_1/ISIC_1.jpg~3f2a9c1b0d'
 */
export function imageIdFromKey(key: string, uploadsPrefix: string): string {
  if (!key.startsWith(uploadsPrefix) || key.length === uploadsPrefix.length || key.endsWith('/')) {
    throw new InputError(
      ErrorCode.KEY_REJECTED,
      `The key '${key}' is not an upload under '${uploadsPrefix}'.`,
    );
  }
  const rel = key.slice(uploadsPrefix.length);
  let changed = false;
  const segments = rel
    .split('/')
    .filter((s) => {
      if (s === '') changed = true;
      return s !== '';
    })
    .map((s) => {
      if (s === '.' || s === '..') {
        changed = true;
        return '_';
      }
      if (SAFE_SEGMENT.test(s)) return s;
      changed = true;
      const cleaned = s
        .normalize('NFKD')
        .replace(/[^A-Za-z0-9._-]/g, '_')
        .replace(/^\.+/, '_');
      return cleaned.slice(0, 100);
    });
  let imageId = segments.join('/');
  if (changed) imageId += '~' + hashOf(key, 10);
  const fits =
    imageId.length <= MAX_IMAGE_ID_LENGTH &&
    imageId.split('/').every((s) => s.length <= MAX_IMAGE_ID_SEGMENT_LENGTH);
  return fits ? imageId : shortenedImageId(segments, key);
}

/**
 * Whether results written under one prefix could land under the other: then the upload
 * notification would fire on the pipeline's own outputs (recursion). Either direction counts:
 * uploads 'results/in/' with results 'results/' turns 'results/in/in/x.jpg' into
 * 'results/in/x.jpg/mask.png', itself an upload.
 */
export function prefixesOverlap(uploadsPrefix: string, resultsPrefix: string): boolean {
  return uploadsPrefix.startsWith(resultsPrefix) || resultsPrefix.startsWith(uploadsPrefix);
}

export interface ResultKeys {
  readonly prefix: string;
  readonly mask: string;
  readonly overlay: string;
  readonly result: string;
  readonly error: string;
  readonly fhir: string;
}

/** Content type of each result object, next to its name (the writer and the FHIR Media share it). */
export const RESULT_CONTENT_TYPES = {
  mask: 'image/png',
  overlay: 'image/jpeg',
  result: 'application/json',
  error: 'application/json',
  fhir: 'application/fhir+json',
} as const satisfies Record<Exclude<keyof ResultKeys, 'prefix'>, string>;

/** Where the outputs of one upload go: results/<image id>/... */
export function resultKeys(imageId: string, resultsPrefix: string): ResultKeys {
  const prefix = `${resultsPrefix}${imageId}/`;
  return {
    prefix,
    mask: `${prefix}mask.png`,
    overlay: `${prefix}overlay.jpg`,
    result: `${prefix}result.json`,
    error: `${prefix}error.json`,
    fhir: `${prefix}report.fhir.json`,
  };
}
