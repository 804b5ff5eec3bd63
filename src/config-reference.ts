// Every environment variable the project reads, with its default taken from the code and what it
// means: the one definition that scripts/env-table.ts renders into README.md and
// docs/integration.md (test/scripts/env-table.test.ts fails when they drift). Not imported at run time.
import { API_ENV, DEFAULT_DOWNLOAD_URL_TTL_SECONDS, DEFAULT_UPLOAD_URL_TTL_SECONDS } from './api/config.js';
import { DEFAULT_CONFIG, DEFAULT_WORKER_MAX_BATCH, ENV, WORKER_ENV, type LesionConfig } from './config.js';
import { DEFAULT_HEALTH_FILE, HEALTH_FILE_ENV } from './service/health.js';

export interface EnvVariable {
  readonly name: string;
  /** As shown in the table (Markdown). */
  readonly default: string;
  readonly meaning: string;
}

const code = (v: unknown) => `\`${String(v)}\``;

/** What each pipeline knob means; `default` only where the raw value would mislead. */
const PIPELINE: Record<keyof LesionConfig, { readonly meaning: string; readonly default?: string }> = {
  modelPath: {
    meaning: 'ONNX model; its sidecar `.json` sits beside it',
    default: code('models/lesion-mtl.onnx'),
  },
  executionProvider: {
    meaning: '`auto` (CUDA if its provider library is installed, else CPU), `cpu`, `cuda`',
  },
  intraOpThreads: { meaning: 'onnxruntime threads per operator (0 = all cores)' },
  maxPixels: {
    meaning: 'decoded pixels above which an upload is `TOO_LARGE` (checked from the header, before decoding)',
  },
  maxBytes: { meaning: 'object bytes above which an upload is `TOO_LARGE` (checked before download)' },
  minSide: { meaning: 'shorter side below which an upload is `TOO_SMALL`' },
  maxAspectRatio: { meaning: 'long/short side ratio above which an upload is rejected' },
  maxJpegScans: {
    meaning:
      'JPEG scans (progressive passes, counted from the markers before decoding) above which an upload is `DECODE_TOO_EXPENSIVE`; encoders write 1-20',
  },
  decodeTimeoutMs: {
    meaning:
      'decode time budget of one upload (0 = none); past it the upload is `DECODE_TOO_EXPENSIVE` and the rest of the batch goes on',
  },
  uploadsPrefix: { meaning: 'where uploads are read from' },
  resultsPrefix: { meaning: 'where outputs go (must not overlap the uploads prefix, either way)' },
  resultsBucket: { meaning: 'write results to another bucket', default: "(upload's bucket)" },
  overlayMaxSide: { meaning: 'longest side of overlay.jpg' },
  keepLargestComponent: { meaning: 'keep only the largest lesion component' },
  fillHoles: { meaning: 'fill holes inside the lesion' },
  eventBusName: { meaning: 'EventBridge bus for `LesionAnalysisCompleted`/`Failed`', default: '(none)' },
  maxReceiveCount: {
    meaning:
      "the queue's `maxReceiveCount`: on that delivery a transient failure is answered with a retryable `error.json` + `Failed` event before the message is dead-lettered (the stack sets it)",
    default: '`0` (never)',
  },
};

/** The pipeline's variables (CLI, local run, Lambda, GPU worker), then the worker's and the runtime's own. */
export const PIPELINE_ENV: readonly EnvVariable[] = [
  ...(Object.keys(ENV) as (keyof LesionConfig)[]).map((k) => ({
    name: ENV[k],
    default: PIPELINE[k].default ?? code(DEFAULT_CONFIG[k]),
    meaning: PIPELINE[k].meaning,
  })),
  { name: WORKER_ENV.queueUrl, default: '—', meaning: 'GPU worker only: the queue to poll (required)' },
  {
    name: WORKER_ENV.maxBatch,
    default: code(DEFAULT_WORKER_MAX_BATCH),
    meaning: 'GPU worker only: images per inference',
  },
  {
    name: HEALTH_FILE_ENV,
    default: code(DEFAULT_HEALTH_FILE),
    meaning: 'GPU worker only: the heartbeat its container health check (`node healthcheck.mjs`) reads',
  },
  {
    name: 'ORT_DISABLE_TELEMETRY',
    default: '`1` (set by the library when unset)',
    meaning: "onnxruntime's Microsoft telemetry (device id + HTTPS uploads) stays off; see docs/security.md",
  },
  {
    name: 'POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, LOG_LEVEL',
    default: '',
    meaning: 'Powertools logging/metrics',
  },
];

/** The upload API function's variables (src/api/config.ts). */
export const API_FUNCTION_ENV: readonly EnvVariable[] = [
  { name: API_ENV.uploadBucket, default: '—', meaning: 'bucket the presigned PUTs write to (required)' },
  { name: ENV.resultsBucket, default: 'the upload bucket', meaning: 'where results are read from' },
  {
    name: `${ENV.uploadsPrefix} / ${ENV.resultsPrefix}`,
    default: `${code(DEFAULT_CONFIG.uploadsPrefix)} / ${code(DEFAULT_CONFIG.resultsPrefix)}`,
    meaning: 'as for the pipeline',
  },
  {
    name: ENV.maxBytes,
    default: code(DEFAULT_CONFIG.maxBytes),
    meaning: "largest upload a URL is issued for (keep equal to the pipeline's)",
  },
  {
    name: API_ENV.uploadUrlTtlSeconds,
    default: code(DEFAULT_UPLOAD_URL_TTL_SECONDS),
    meaning: 'lifetime of the presigned PUT',
  },
  {
    name: API_ENV.downloadUrlTtlSeconds,
    default: code(DEFAULT_DOWNLOAD_URL_TTL_SECONDS),
    meaning: 'lifetime of the presigned GETs',
  },
];
