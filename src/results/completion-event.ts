// The completion event of one upload: what EventBridge carries (and the CDK stack's rule
// matches) when an upload is answered. Pure and free of the AWS SDK, so cdk/ imports it too.
import { createHash } from 'node:crypto';
import type { ResultKeys } from './keys.js';
import type { AnalysisResult, ErrorResult } from './result.js';

export const EVENT_SOURCE = 'lesion-mtl';
export const DetailType = {
  COMPLETED: 'LesionAnalysisCompleted',
  FAILED: 'LesionAnalysisFailed',
} as const;
export type DetailType = (typeof DetailType)[keyof typeof DetailType];

export interface CompletionEvent {
  readonly detailType: DetailType;
  readonly detail: {
    /**
     * Stable for one upload version: a re-sent event (see `publishAndMark`) carries the same id,
     * so consumers deduplicate on it. Not EventBridge's own envelope `id`, which is new per send.
     */
    readonly eventId: string;
    readonly imageId: string;
    readonly bucket: string | null;
    readonly imageKey: string | null;
    /** ETag of the upload version that was analysed. */
    readonly uploadETag: string;
    /** Bucket of `resultKeys` (LESION_RESULTS_BUCKET, or the upload's own bucket). */
    readonly resultsBucket: string;
    readonly resultKeys: Partial<Record<'result' | 'error' | 'mask' | 'overlay' | 'fhir', string>>;
    readonly probabilities: { readonly melanoma: number; readonly seborrheicKeratosis: number } | null;
    readonly flags: readonly string[];
    readonly withheld: boolean | null;
    readonly errorCode: string | null;
    /**
     * Failed only: true when a transient failure outlasted every delivery (not the image's
     * fault); a later event for the same upload version may still bring the final answer.
     */
    readonly retryable: boolean | null;
    readonly model: { readonly name: string; readonly version: string } | null;
  };
}

/**
 * Deterministic id of the event for one upload version. A retryable Failed event gets its own
 * id, so deduplicating consumers do not drop the final answer that may follow it.
 */
export function completionEventId(
  detailType: DetailType,
  imageId: string,
  uploadETag: string,
  retryable = false,
): string {
  const text = `${detailType}\n${imageId}\n${uploadETag}${retryable ? '\nretryable' : ''}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/**
 * The event for one finished upload (result or error). Pure: the same stored result.json /
 * error.json and upload ETag always give the same event, which is what lets a redelivery
 * rebuild an event that was never sent.
 *
 * @example
 * const event = completionEvent({ status: 'ok', result, keys, uploadETag: head.eTag, resultsBucket });
 */
export function completionEvent(
  o:
    | { status: 'ok'; result: AnalysisResult; keys: ResultKeys; uploadETag: string; resultsBucket: string }
    | { status: 'error'; error: ErrorResult; keys: ResultKeys; uploadETag: string; resultsBucket: string },
): CompletionEvent {
  if (o.status === 'ok') {
    const r = o.result;
    return {
      detailType: DetailType.COMPLETED,
      detail: {
        eventId: completionEventId(DetailType.COMPLETED, r.image.id, o.uploadETag),
        imageId: r.image.id,
        bucket: r.image.bucket,
        imageKey: r.image.key,
        uploadETag: o.uploadETag,
        resultsBucket: o.resultsBucket,
        resultKeys: { result: o.keys.result, mask: o.keys.mask, overlay: o.keys.overlay, fhir: o.keys.fhir },
        // withheld (failed quality gate): no figures travel in the event, so a consumer that
        // ignores `withheld` cannot rank or alert on them; result.json keeps them for audit
        probabilities: r.classification.withheld
          ? null
          : {
              melanoma: r.classification.melanoma.probability,
              seborrheicKeratosis: r.classification.seborrheicKeratosis.probability,
            },
        flags: r.quality.flags,
        withheld: r.classification.withheld,
        errorCode: null,
        retryable: null,
        model: { name: r.model.name, version: r.model.version },
      },
    };
  }
  const e = o.error;
  return {
    detailType: DetailType.FAILED,
    detail: {
      eventId: completionEventId(DetailType.FAILED, e.image.id, o.uploadETag, e.error.retryable),
      imageId: e.image.id,
      bucket: e.image.bucket,
      imageKey: e.image.key,
      uploadETag: o.uploadETag,
      resultsBucket: o.resultsBucket,
      resultKeys: { error: o.keys.error },
      probabilities: null,
      flags: [],
      withheld: null,
      errorCode: e.error.code,
      retryable: e.error.retryable,
      model: e.model ? { name: e.model.name, version: e.model.version } : null,
    },
  };
}
