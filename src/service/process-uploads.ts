import type { LesionConfig } from '../config.js';
import { ErrorCode, InputError, isLesionError, objectTooLarge, type LesionError } from '../errors.js';
import type { LesionAnalysis, LesionAnalyzer } from '../pipeline/analyzer.js';
import {
  answerMetadata,
  eventAlreadyPublished,
  isFinalAnswer,
  publishAndMark,
  UNKNOWN_UPLOAD_ETAG,
  type EventPublisher,
} from '../results/answer.js';
import { completionEvent, type CompletionEvent } from '../results/completion-event.js';
import { imageIdFromKey, resultKeys, type ResultKeys } from '../results/keys.js';
import { errorResult, type AnalysisResult, type ErrorResult } from '../results/result.js';
import { objectStoreSink, writeAnalysisOutputs, writeErrorOutput } from '../results/write.js';
import type { ObjectStore } from '../storage/s3.js';
import type { UploadRef } from './events.js';

export type UploadOutcome =
  | {
      readonly status: 'ok';
      readonly ref: UploadRef;
      readonly keys: ResultKeys;
      readonly result: AnalysisResult;
      /** True when the result was stored by an earlier delivery and only its event was owed. */
      readonly eventRecovered?: boolean;
    }
  | {
      readonly status: 'error';
      readonly ref: UploadRef;
      readonly keys: ResultKeys | null;
      readonly error: ErrorResult;
      /** True when error.json was stored by an earlier delivery and only its event was owed. */
      readonly eventRecovered?: boolean;
    }
  /** Already processed and announced for this upload version (a redelivered message): nothing written. */
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
  readonly imageId: string;
  readonly resultsBucket: string;
  readonly uploadETag: string;
  bytes?: Buffer;
  error?: LesionError;
}

/** One upload object, whatever its version: the unit a batch processes (and answers) once. */
export function uploadIdentity(ref: UploadRef): string {
  return `${ref.bucket}\n${ref.key}`;
}

/** Where an upload's outputs go. Throws KEY_REJECTED for a key that is not an upload. */
function placement(
  ref: UploadRef,
  config: LesionConfig,
): Pick<Prepared, 'imageId' | 'keys' | 'resultsBucket'> {
  const imageId = imageIdFromKey(ref.key, config.uploadsPrefix);
  return {
    imageId,
    keys: resultKeys(imageId, config.resultsPrefix),
    resultsBucket: config.resultsBucket || ref.bucket,
  };
}

/** Head + size checks + download; permanent problems become `error`, transient ones throw. */
async function prepare(ref: UploadRef, deps: ProcessDeps): Promise<Prepared | UploadOutcome> {
  const { config, store } = deps;
  let place: ReturnType<typeof placement>;
  try {
    place = placement(ref, config);
  } catch (e) {
    return { status: 'ignored', ref, reason: (e as Error).message };
  }
  const { keys, resultsBucket } = place;
  const head = await store.head(ref.bucket, ref.key);
  const base = { ref, ...place, uploadETag: head?.eTag ?? ref.uploadETag ?? UNKNOWN_UPLOAD_ETAG };
  // A result (or error) already written for this exact upload version: a redelivery. It is a
  // duplicate only once its event was published too; otherwise the event is still owed.
  for (const [status, key] of [
    ['ok', keys.result],
    ['error', keys.error],
  ] as const) {
    // a gave-up error.json is not final: a redrive after giving up tries again
    if (!isFinalAnswer(await store.head(resultsBucket, key), base.uploadETag)) continue;
    const { publisher } = deps;
    const target = { store, bucket: resultsBucket, keys, uploadETag: base.uploadETag };
    if (!publisher || (await eventAlreadyPublished(target))) return { status: 'duplicate', ref, keys };
    const recovered = await recoverEvent(status, key, base, deps);
    if (!recovered) break; // stored output unreadable: analyse again and overwrite it
    await publishAndMark(publisher, recovered.event, target);
    return recovered.outcome;
  }
  if (!head) {
    return {
      ...base,
      error: new InputError(
        ErrorCode.OBJECT_NOT_FOUND,
        `The upload s3://${ref.bucket}/${ref.key} no longer exists.`,
      ),
    };
  }
  if (head.size === 0)
    return {
      ...base,
      error: new InputError(ErrorCode.EMPTY_OBJECT, 'The uploaded object is empty (0 bytes).'),
    };
  if (head.size > config.maxBytes) return { ...base, error: objectTooLarge(head.size, config.maxBytes) };
  try {
    return { ...base, bytes: await store.get(ref.bucket, ref.key, config.maxBytes) };
  } catch (e) {
    if (e instanceof InputError) return { ...base, error: e };
    throw e;
  }
}

/**
 * Rebuild the owed event of an earlier delivery from the stored result.json / error.json.
 * Returns null when the stored JSON cannot be parsed (then the upload is analysed again).
 */
async function recoverEvent(
  status: 'ok' | 'error',
  key: string,
  p: Omit<Prepared, 'bytes' | 'error'>,
  deps: ProcessDeps,
): Promise<{ event: CompletionEvent; outcome: UploadOutcome } | null> {
  let stored: unknown;
  try {
    stored = JSON.parse((await deps.store.get(p.resultsBucket, key, deps.config.maxBytes)).toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError || e instanceof InputError) return null; // gone or corrupt
    throw e; // StorageError: retried
  }
  const common = { ref: p.ref, keys: p.keys, eventRecovered: true } as const;
  const place = { keys: p.keys, uploadETag: p.uploadETag, resultsBucket: p.resultsBucket };
  if (status === 'ok' && (stored as AnalysisResult | null)?.status === 'ok') {
    const result = stored as AnalysisResult;
    return { event: completionEvent({ status, result, ...place }), outcome: { status, result, ...common } };
  }
  if (status === 'error' && (stored as ErrorResult | null)?.status === 'error') {
    const error = stored as ErrorResult;
    return { event: completionEvent({ status, error, ...place }), outcome: { status, error, ...common } };
  }
  return null;
}

/** Publish the completion event and record it (no-op without a publisher). */
async function announce(p: Prepared, event: CompletionEvent, deps: ProcessDeps): Promise<void> {
  if (!deps.publisher) return;
  await publishAndMark(deps.publisher, event, {
    store: deps.store,
    bucket: p.resultsBucket,
    keys: p.keys,
    uploadETag: p.uploadETag,
  });
}

async function writeError(
  p: Prepared,
  e: LesionError,
  deps: ProcessDeps,
  gaveUp?: { attempts: number },
): Promise<UploadOutcome> {
  const error = errorResult(
    { id: p.imageId, bucket: p.ref.bucket, key: p.ref.key, bytes: p.bytes?.length ?? null },
    gaveUp
      ? {
          code: e.code,
          // for the person who took the photo: no bucket names or internals (those are logged)
          message:
            `The analysis could not be completed after ${gaveUp.attempts} attempts because of a ` +
            'temporary problem on our side, not with the image. It can be retried: an operator can ' +
            'redrive it, or upload the image again.',
          retryable: true,
        }
      : { code: e.code, message: e.message, retryable: false },
    deps.analyzer.modelInfo,
  );
  const sink = objectStoreSink(
    deps.store,
    p.resultsBucket,
    answerMetadata(p.uploadETag, { gaveUp: !!gaveUp }),
  );
  await writeErrorOutput(sink, p.keys, error);
  const event = completionEvent({
    status: 'error',
    error,
    keys: p.keys,
    uploadETag: p.uploadETag,
    resultsBucket: p.resultsBucket,
  });
  // Giving up publishes without the marker: a marker would make the final answer's event,
  // after a redrive, look already published.
  if (gaveUp) await deps.publisher?.publish(event);
  else await announce(p, event, deps);
  return { status: 'error', ref: p.ref, keys: p.keys, error };
}

/** The outputs (see `writeAnalysisOutputs`), then the event, then its marker (see `publishAndMark`). */
async function writeAnalysis(p: Prepared, a: LesionAnalysis, deps: ProcessDeps): Promise<UploadOutcome> {
  const sink = objectStoreSink(deps.store, p.resultsBucket, answerMetadata(p.uploadETag));
  const result = await writeAnalysisOutputs(sink, p.keys, a);
  await announce(
    p,
    completionEvent({
      status: 'ok',
      result,
      keys: p.keys,
      uploadETag: p.uploadETag,
      resultsBucket: p.resultsBucket,
    }),
    deps,
  );
  return { status: 'ok', ref: p.ref, keys: p.keys, result };
}

/**
 * The last delivery of an upload's message failed transiently: answer it with error.json (the
 * transient error's code, `retryable: true`) and a retryable Failed event, so the client is not
 * left pending while the message sits in the dead-letter queue. A redrive analyses it again (see
 * GAVE_UP_METADATA); a later success writes result.json, which readers prefer.
 *
 * Returns null, writing nothing, when this upload version already has its answer (e.g. result.json
 * was written and only its event kept failing): that answer stands, and a redrive sends its event.
 */
export async function giveUp(
  ref: UploadRef,
  e: LesionError,
  attempts: number,
  deps: ProcessDeps,
): Promise<UploadOutcome | null> {
  const { config, store } = deps;
  const place = placement(ref, config);
  // the version this message is about: a newer upload under the same key has its own message
  const uploadETag = ref.uploadETag || (await store.head(ref.bucket, ref.key))?.eTag || UNKNOWN_UPLOAD_ETAG;
  for (const key of [place.keys.result, place.keys.error]) {
    if (isFinalAnswer(await store.head(place.resultsBucket, key), uploadETag)) return null;
  }
  return writeError({ ref, ...place, uploadETag }, e, deps, { attempts });
}

/**
 * Process uploads named by S3 events with ONE inference for all decodable images. Each slot of
 * the returned array is the outcome for that ref, or the transient error to retry it on
 * (the caller turns those into SQS batch item failures). Uploads are only ever read.
 *
 * An upload named more than once in the same batch (SQS delivers at least once, so a duplicate
 * can share a batch with the original) is processed once; its other slots answer `duplicate`
 * (or carry the same transient error, so every copy is retried together).
 */
export async function processUploads(
  refs: readonly UploadRef[],
  deps: ProcessDeps,
): Promise<(UploadOutcome | LesionError)[]> {
  const firstSlot = new Map<string, number>();
  const distinct: UploadRef[] = [];
  const slotOf = refs.map((ref) => {
    const k = uploadIdentity(ref);
    let slot = firstSlot.get(k);
    if (slot === undefined) {
      slot = distinct.push(ref) - 1;
      firstSlot.set(k, slot);
      return { slot, copy: false };
    }
    return { slot, copy: true };
  });
  if (distinct.length === refs.length) return processDistinctUploads(refs, deps);
  const results = await processDistinctUploads(distinct, deps);
  return refs.map((ref, i): UploadOutcome | LesionError => {
    const { slot, copy } = slotOf[i]!;
    const r = results[slot]!;
    if (!copy || isLesionError(r)) return r;
    if (r.status === 'ignored' || !r.keys) return { ...r, ref } as UploadOutcome;
    return { status: 'duplicate', ref, keys: r.keys };
  });
}

async function processDistinctUploads(
  refs: readonly UploadRef[],
  deps: ProcessDeps,
): Promise<(UploadOutcome | LesionError)[]> {
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
  const toAnalyze = ready.filter((r) => !r.p.error);
  let analyses: (LesionAnalysis | LesionError)[] = [];
  try {
    analyses = await deps.analyzer.analyzeBatch(
      toAnalyze.map(({ p }) => ({
        bytes: p.bytes!,
        target: { id: p.imageId, bucket: p.ref.bucket, key: p.ref.key },
      })),
    );
  } catch (e) {
    if (!isLesionError(e)) throw e;
    for (const r of toAnalyze) out[r.idx] = e; // inference failed for the whole batch: retry all
    analyses = [];
  }
  const analyzed = new Map(toAnalyze.map((r, j) => [r.idx, analyses[j]]));
  await Promise.all(
    ready.map(async ({ idx, p }) => {
      if (out[idx]) return;
      try {
        const a = p.error ?? analyzed.get(idx);
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
