import { loadConfig, type LesionConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { MAX_PRESIGN_SECONDS } from '../storage/s3-limits.js';

/** What the upload API needs; prefixes, size limit and results bucket are the pipeline's own. */
export interface ApiConfig {
  /** Bucket the presigned PUTs write to (the pipeline's notification bucket). */
  readonly uploadBucket: string;
  /** Where result.json & co. live; the pipeline's LESION_RESULTS_BUCKET or the upload bucket. */
  readonly resultsBucket: string;
  readonly uploadsPrefix: string;
  readonly resultsPrefix: string;
  /** Largest upload a presigned PUT is issued for (the pipeline's LESION_MAX_BYTES). */
  readonly maxBytes: number;
  /** Lifetime of a presigned PUT. @default 900 */
  readonly uploadUrlTtlSeconds: number;
  /** Lifetime of the presigned GETs for mask, overlay and FHIR report. @default 300 */
  readonly downloadUrlTtlSeconds: number;
}

export const API_ENV = {
  uploadBucket: 'LESION_UPLOAD_BUCKET',
  uploadUrlTtlSeconds: 'LESION_API_UPLOAD_URL_TTL_SECONDS',
  downloadUrlTtlSeconds: 'LESION_API_DOWNLOAD_URL_TTL_SECONDS',
} as const;

export const DEFAULT_UPLOAD_URL_TTL_SECONDS = 900;
export const DEFAULT_DOWNLOAD_URL_TTL_SECONDS = 300;

function ttl(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PRESIGN_SECONDS) {
    throw new ConfigError(
      `${name}=${raw}: expected an integer number of seconds in 1..${MAX_PRESIGN_SECONDS}`,
    );
  }
  return n;
}

/** The API configuration for a pipeline configuration and its upload bucket. */
export function apiConfigFrom(
  pipeline: LesionConfig,
  uploadBucket: string,
  overrides: Partial<ApiConfig> = {},
): ApiConfig {
  return {
    uploadBucket,
    resultsBucket: pipeline.resultsBucket || uploadBucket,
    uploadsPrefix: pipeline.uploadsPrefix,
    resultsPrefix: pipeline.resultsPrefix,
    maxBytes: pipeline.maxBytes,
    uploadUrlTtlSeconds: DEFAULT_UPLOAD_URL_TTL_SECONDS,
    downloadUrlTtlSeconds: DEFAULT_DOWNLOAD_URL_TTL_SECONDS,
    ...overrides,
  };
}

/**
 * Parse the API's environment (the Lambda's). Throws ConfigError naming the variable.
 *
 * @example
 * const config = loadApiConfig(process.env);
 */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const uploadBucket = env[API_ENV.uploadBucket];
  if (!uploadBucket)
    throw new ConfigError(`${API_ENV.uploadBucket} is not set: the bucket uploads are presigned for`);
  return apiConfigFrom(loadConfig(env), uploadBucket, {
    uploadUrlTtlSeconds: ttl(env, API_ENV.uploadUrlTtlSeconds, DEFAULT_UPLOAD_URL_TTL_SECONDS),
    downloadUrlTtlSeconds: ttl(env, API_ENV.downloadUrlTtlSeconds, DEFAULT_DOWNLOAD_URL_TTL_SECONDS),
  });
}
