import { createHash } from 'node:crypto';
import { ErrorCode, InputError } from '../errors.js';

/** S3 event notifications URL-encode keys with '+' for spaces. */
export function decodeS3EventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (cause) {
    throw new InputError(ErrorCode.KEY_REJECTED, `The object key '${raw}' is not valid URL encoding.`, {
      cause,
    });
  }
}

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Stable result id for an upload key: the key below the uploads prefix with each path segment
 * reduced to [A-Za-z0-9._-]; '.'/'..' segments are replaced. When anything had to change, '~' and
 * a hash of the original key are appended, so two different keys can never share results: a
 * key kept as it is has no '~' (not a safe character), so it cannot look like a changed one.
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
  let id = segments.join('/');
  if (changed) id += '~' + createHash('sha256').update(key).digest('hex').slice(0, 10);
  return id;
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

/** Where the outputs of one upload go: results/<id>/... */
export function resultKeys(id: string, resultsPrefix: string): ResultKeys {
  const prefix = `${resultsPrefix}${id}/`;
  return {
    prefix,
    mask: `${prefix}mask.png`,
    overlay: `${prefix}overlay.jpg`,
    result: `${prefix}result.json`,
    error: `${prefix}error.json`,
    fhir: `${prefix}report.fhir.json`,
  };
}
