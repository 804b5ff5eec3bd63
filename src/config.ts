import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { MAX_RESULTS_PREFIX_BYTES, prefixesOverlap } from './results/keys.js';
import type { ExecutionProvider } from './inference/session.js';

/** Package root (this file sits in src/). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_MODEL_PATH = path.join(PACKAGE_ROOT, 'models', 'lesion-mtl.onnx');

/**
 * Every knob the pipeline reads from the environment, parsed once. Option > env > default.
 * The README's environment table and cdk/ use the same names.
 */
export interface LesionConfig {
  readonly modelPath: string;
  readonly executionProvider: ExecutionProvider;
  readonly intraOpThreads: number;
  /** Decoded pixels (width x height) above which an upload is TOO_LARGE. */
  readonly maxPixels: number;
  /** Object size in bytes above which an upload is TOO_LARGE (checked before download). */
  readonly maxBytes: number;
  /** Shortest side in pixels below which an upload is TOO_SMALL. */
  readonly minSide: number;
  /** Longest/shortest side ratio above which an upload is rejected. */
  readonly maxAspectRatio: number;
  /** JPEG scans (progressive passes, counted from the markers) above which an upload is DECODE_TOO_EXPENSIVE. */
  readonly maxJpegScans: number;
  /** Decode time budget of one upload in ms (0 = none); past it the upload is DECODE_TOO_EXPENSIVE. */
  readonly decodeTimeoutMs: number;
  readonly uploadsPrefix: string;
  readonly resultsPrefix: string;
  /** Results bucket; empty = the upload's own bucket. */
  readonly resultsBucket: string;
  /** Longest side of the clinician overlay JPEG. */
  readonly overlayMaxSide: number;
  readonly keepLargestComponent: boolean;
  readonly fillHoles: boolean;
  /** EventBridge bus for completion events; empty = do not publish. */
  readonly eventBusName: string;
  /**
   * The queue's maxReceiveCount (its redrive policy): on that delivery a transient failure is
   * answered with error.json (retryable) before the message goes to the dead-letter queue, so
   * the client is not left pending. 0 = unknown: never give up here.
   */
  readonly maxReceiveCount: number;
}

export const ENV = {
  modelPath: 'LESION_MODEL_PATH',
  executionProvider: 'LESION_EXECUTION_PROVIDER',
  intraOpThreads: 'LESION_INTRA_OP_THREADS',
  maxPixels: 'LESION_MAX_PIXELS',
  maxBytes: 'LESION_MAX_BYTES',
  minSide: 'LESION_MIN_SIDE',
  maxAspectRatio: 'LESION_MAX_ASPECT_RATIO',
  maxJpegScans: 'LESION_MAX_JPEG_SCANS',
  decodeTimeoutMs: 'LESION_DECODE_TIMEOUT_MS',
  uploadsPrefix: 'LESION_UPLOADS_PREFIX',
  resultsPrefix: 'LESION_RESULTS_PREFIX',
  resultsBucket: 'LESION_RESULTS_BUCKET',
  overlayMaxSide: 'LESION_OVERLAY_MAX_SIDE',
  keepLargestComponent: 'LESION_KEEP_LARGEST_COMPONENT',
  fillHoles: 'LESION_FILL_HOLES',
  eventBusName: 'LESION_EVENT_BUS_NAME',
  maxReceiveCount: 'LESION_MAX_RECEIVE_COUNT',
} as const satisfies Record<keyof LesionConfig, string>;

/** Images per inference of the GPU worker (LESION_MAX_BATCH, read by functions/gpu-worker). */
export const DEFAULT_WORKER_MAX_BATCH = 16;

/** Messages per Lambda invocation: the stack's default, and the local run's batches. */
export const DEFAULT_LAMBDA_BATCH_SIZE = 4;
/** Deliveries before a message is dead-lettered: the stack's default, and the local run's. */
export const DEFAULT_MAX_RECEIVE_COUNT = 3;

/** The variables only the GPU worker reads (functions/gpu-worker/worker.ts). */
export const WORKER_ENV = {
  queueUrl: 'LESION_QUEUE_URL',
  maxBatch: 'LESION_MAX_BATCH',
} as const;

export const DEFAULT_CONFIG: LesionConfig = {
  modelPath: DEFAULT_MODEL_PATH,
  executionProvider: 'auto',
  intraOpThreads: 0,
  maxPixels: 60_000_000,
  maxBytes: 40 * 1024 * 1024,
  minSide: 32,
  maxAspectRatio: 4,
  maxJpegScans: 100,
  decodeTimeoutMs: 10_000,
  uploadsPrefix: 'uploads/',
  resultsPrefix: 'results/',
  resultsBucket: '',
  overlayMaxSide: 1024,
  keepLargestComponent: true,
  fillHoles: true,
  eventBusName: '',
  maxReceiveCount: 0,
};

function parseInt10(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name}=${raw}: expected an integer >= ${min}`);
  return n;
}

function parseNumber(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`${name}=${raw}: expected a number >= ${min}`);
  return n;
}

function parseBool(name: string, raw: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name}=${raw}: expected true or false`);
}

function parsePrefix(name: string, raw: string): string {
  if (raw.startsWith('/') || raw.includes('..'))
    throw new ConfigError(`${name}=${raw}: expected a relative key prefix`);
  return raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
}

/**
 * Parse the configuration from `env`, with explicit `overrides` winning.
 * Throws ConfigError naming the offending variable.
 *
 * @example
 * const config = loadConfig(process.env, { executionProvider: 'cpu' });
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<LesionConfig> = {},
): LesionConfig {
  const get = (k: keyof LesionConfig): string | undefined => {
    const v = env[ENV[k]];
    return v === undefined || v === '' ? undefined : v;
  };
  const cfg: { -readonly [K in keyof LesionConfig]: LesionConfig[K] } = { ...DEFAULT_CONFIG };
  const mp = get('modelPath');
  if (mp) cfg.modelPath = path.resolve(mp);
  const ep = get('executionProvider');
  if (ep) {
    if (ep !== 'auto' && ep !== 'cpu' && ep !== 'cuda') {
      throw new ConfigError(`${ENV.executionProvider}=${ep}: expected one of auto, cpu, cuda`);
    }
    cfg.executionProvider = ep;
  }
  const ints = [
    'intraOpThreads',
    'maxPixels',
    'maxBytes',
    'minSide',
    'overlayMaxSide',
    'maxReceiveCount',
    'maxJpegScans',
    'decodeTimeoutMs',
  ] as const;
  const zeroAllowed = new Set<keyof LesionConfig>(['intraOpThreads', 'maxReceiveCount', 'decodeTimeoutMs']);
  for (const k of ints) {
    const v = get(k);
    if (v) cfg[k] = parseInt10(ENV[k], v, zeroAllowed.has(k) ? 0 : 1);
  }
  const ar = get('maxAspectRatio');
  if (ar) cfg.maxAspectRatio = parseNumber(ENV.maxAspectRatio, ar, 1);
  for (const k of ['keepLargestComponent', 'fillHoles'] as const) {
    const v = get(k);
    if (v) cfg[k] = parseBool(ENV[k], v);
  }
  for (const k of ['uploadsPrefix', 'resultsPrefix'] as const) {
    const v = env[ENV[k]];
    if (v !== undefined) cfg[k] = parsePrefix(ENV[k], v);
  }
  cfg.resultsBucket = get('resultsBucket') ?? '';
  cfg.eventBusName = get('eventBusName') ?? '';
  const merged = { ...cfg, ...overrides };
  if (Buffer.byteLength(merged.resultsPrefix) > MAX_RESULTS_PREFIX_BYTES) {
    throw new ConfigError(
      `${ENV.resultsPrefix} is ${Buffer.byteLength(merged.resultsPrefix)} bytes: at most ${MAX_RESULTS_PREFIX_BYTES}, so every result key fits S3's 1,024 bytes`,
    );
  }
  if (prefixesOverlap(merged.uploadsPrefix, merged.resultsPrefix)) {
    throw new ConfigError(
      `${ENV.resultsPrefix}=${merged.resultsPrefix} and ${ENV.uploadsPrefix}=${merged.uploadsPrefix} overlap: outputs would re-trigger the pipeline`,
    );
  }
  return merged;
}
