import type { LesionConfig } from '../config.js';
import { ErrorCode, InputError, isLesionError, objectTooLarge, type LesionError } from '../errors.js';
import type { LesionAnalysis, LesionAnalyzer } from '../pipeline/analyzer.js';
import type { AnalysisResult, ErrorResult } from '../pipeline/result.js';
import { RESULT_SCHEMA_VERSION } from '../pipeline/result.js';
import { imageIdFromKey, resultKeys, type ResultKeys } from '../storage/keys.js';
import type { ObjectStore } from '../storage/s3.js';
import type { UploadRef } from './events.js';
import { buildFhirReport } from './fhir.js';
import { completionEvent, type EventPublisher } from './publish.js';

/** Metadata on every result object: which upload version produced it (idempotency key). */
export const SOURCE_ETAG_METADATA = 'source-etag';

export type UploadOutcome =
  | { readonly status: 'ok'; readonly ref: UploadRef; readonly keys: ResultKeys; readonly result: AnalysisResult }
  | { readonly status: 'error'; readonly ref: UploadRef; readonly keys: ResultKeys | null; readonly error: ErrorResult }
  /** Already processed for this upload version (a redelivered message): nothing written. */
  | { readonly status: 'duplicate'; readonly ref: UploadRef; readonly keys: ResultKeys }
  /** Not ours to answer (e.g. a key outside the uploads prefix): nothing written. */
  | { readonly status: 'ignored'; readonly ref: UploadRef; readonly reason: string };

export interface ProcessDeps {
  readonly analyzer: LesionAnalyzer;
  readonly store: ObjectStore;
  readonly config: LesionConfig;
  readonly publisher?: EventPublisher;
}

interface Prepared {
  readonly ref: UploadRef;
  readonly keys: ResultKeys;
  readonly id: string;
  readonly resultsBucket: string;
  readonly eTag: string;
  bytes?: Buffer;
  error?: LesionError;
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

function errorResult(p: { id: string; ref: UploadRef }, e: LesionError, deps: ProcessDeps, bytes: number | null): ErrorResult {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    status: 'error',
    image: { id: p.id, bucket: p.ref.bucket, key: p.ref.key, bytes },
    error: { code: e.code, message: e.message, retryable: false },
    model: deps.analyzer.modelInfo,
  };
}

/** Head + size checks + download; permanent problems become `error`, transient ones throw. */
async function prepare(ref: UploadRef, deps: ProcessDeps): Promise<Prepared | UploadOutcome> {
  const { config, store } = deps;
  let id: string;
  try {
    id = imageIdFromKey(ref.key, config.uploadsPrefix);
  } catch (e) {
    return { status: 'ignored', ref, reason: (e as Error).message };
  }
  const keys = resultKeys(id, config.resultsPrefix);
  const resultsBucket = config.resultsBucket || ref.bucket;
  const head = await store.head(ref.bucket, ref.key);
  const base = { ref, keys, id, resultsBucket, eTag: head?.eTag ?? ref.eTag ?? 'missing' };
  // A result (or error) already written for this exact upload version: a redelivery.
  for (const key of [keys.result, keys.error]) {
    const existing = await store.head(resultsBucket, key);
    if (existing && existing.metadata[SOURCE_ETAG_METADATA] === base.eTag) return { status: 'duplicate', ref, keys };
  }
  if (!head) {
    return { ...base, error: new InputError(ErrorCode.OBJECT_NOT_FOUND, `The upload s3://${ref.bucket}/${ref.key} no longer exists.`) };
  }
  if (head.size === 0) return { ...base, error: new InputError(ErrorCode.EMPTY_OBJECT, 'The uploaded object is empty (0 bytes).') };
  if (head.size > config.maxBytes) return { ...base, error: objectTooLarge(head.size, config.maxBytes) };
  try {
    return { ...base, bytes: await store.get(ref.bucket, ref.key, config.maxBytes) };
  } catch (e) {
    if (e instanceof InputError) return { ...base, error: e };
    throw e;
  }
}

async function writeError(p: Prepared, e: LesionError, deps: ProcessDeps): Promise<UploadOutcome> {
  const error = errorResult(p, e, deps, p.bytes?.length ?? null);
  await deps.store.put(p.resultsBucket, p.keys.error, json(error), 'application/json', { [SOURCE_ETAG_METADATA]: p.eTag });
  await deps.publisher?.publish(completionEvent({ status: 'error', error, keys: p.keys }));
  return { status: 'error', ref: p.ref, keys: p.keys, error };
}

/** Mask, overlay and FHIR first, result.json last: a reader that sees result.json sees everything. */
async function writeAnalysis(p: Prepared, a: LesionAnalysis, deps: ProcessDeps): Promise<UploadOutcome> {
  const meta = { [SOURCE_ETAG_METADATA]: p.eTag };
  const { store } = deps;
  const result: AnalysisResult = {
    ...a.result,
    segmentation: { ...a.result.segmentation, maskKey: p.keys.mask, overlayKey: p.keys.overlay },
  };
  await Promise.all([
    store.put(p.resultsBucket, p.keys.mask, a.maskPng, 'image/png', meta),
    store.put(p.resultsBucket, p.keys.overlay, a.overlayPng, 'image/png', meta),
    store.put(p.resultsBucket, p.keys.fhir, json(buildFhirReport(result, p.keys)), 'application/fhir+json', meta),
  ]);
  await store.put(p.resultsBucket, p.keys.result, json(result), 'application/json', meta);
  await deps.publisher?.publish(completionEvent({ status: 'ok', result, keys: p.keys }));
  return { status: 'ok', ref: p.ref, keys: p.keys, result };
}

/**
 * Process uploads named by S3 events with ONE inference for all decodable images. Each slot of
 * the returned array is the outcome for that ref, or the transient error to retry it on
 * (the caller turns those into SQS batch item failures). Uploads are only ever read.
 */
export async function processUploads(refs: readonly UploadRef[], deps: ProcessDeps): Promise<(UploadOutcome | LesionError)[]> {
  const out: (UploadOutcome | LesionError)[] = new Array(refs.length);
  const ready: { idx: number; p: Prepared }[] = [];
  await Promise.all(
    refs.map(async (ref, idx) => {
      try {
        const r = await prepare(ref, deps);
        if ('status' in r) out[idx] = r;
        else ready.push({ idx, p: r });
      } catch (e) {
        if (!isLesionError(e) || !e.retryable) throw e;
        out[idx] = e;
      }
    }),
  );
  ready.sort((a, b) => a.idx - b.idx);
  const toAnalyse = ready.filter((r) => !r.p.error);
  let analyses: (LesionAnalysis | LesionError)[] = [];
  try {
    analyses = await deps.analyzer.analyzeBatch(
      toAnalyse.map(({ p }) => ({ bytes: p.bytes!, target: { id: p.id, bucket: p.ref.bucket, key: p.ref.key } })),
    );
  } catch (e) {
    if (!isLesionError(e)) throw e;
    for (const r of toAnalyse) out[r.idx] = e; // inference failed for the whole batch: retry all
    analyses = [];
  }
  const analysed = new Map(toAnalyse.map((r, j) => [r.idx, analyses[j]]));
  await Promise.all(
    ready.map(async ({ idx, p }) => {
      if (out[idx]) return;
      try {
        const a = p.error ?? analysed.get(idx);
        if (!a) return;
        if (a instanceof Error) out[idx] = a.retryable ? a : await writeError(p, a, deps);
        else out[idx] = await writeAnalysis(p, a, deps);
      } catch (e) {
        if (!isLesionError(e)) throw e;
        out[idx] = e;
      }
    }),
  );
  return out;
}
