// When is an upload answered? Every output of one upload carries the upload version (ETag) it
// belongs to; result.json or error.json of the current version is the answer; the event marker
// says its completion event went out. The pipeline, the worker and the API all ask here.
import type { ObjectStore } from '../storage/s3.js';
import { EVENT_SOURCE, type CompletionEvent } from './completion-event.js';
import { RESULT_CONTENT_TYPES, type ResultKeys } from './keys.js';

/**
 * Metadata on every result object and on the event marker: the ETag of the upload version it
 * belongs to. The name in code is the upload's ETag everywhere (`uploadETag`, as in the event);
 * the stored key keeps its original spelling, `source-etag`, which existing outputs carry.
 */
export const UPLOAD_ETAG_METADATA = 'source-etag';

/**
 * Metadata on an error.json written because a transient failure outlasted every delivery
 * (`giveUp`): it answers the client, but it is not final, so a redrive analyses the upload again.
 */
export const GAVE_UP_METADATA = 'lesion-gave-up';

/** The upload's ETag when neither S3 nor the notification names one (the upload is gone). */
export const UNKNOWN_UPLOAD_ETAG = 'missing';

/** S3 user metadata of every output of one upload version; `gaveUp`: an answer that is not final. */
export function answerMetadata(uploadETag: string, o: { gaveUp?: boolean } = {}): Record<string, string> {
  return { [UPLOAD_ETAG_METADATA]: uploadETag, ...(o.gaveUp ? { [GAVE_UP_METADATA]: 'true' } : {}) };
}

/** File name of the event marker beside result.json / error.json. */
export const EVENT_MARKER_NAME = 'event.json';

/** S3 user metadata of a stored output, as `head` returns it. */
interface StoredOutput {
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Whether a stored result.json / error.json belongs to this upload version: what a client is
 * shown (a gave-up error.json included: it says "retry", and a later success replaces it).
 */
export function answersUploadVersion(stored: StoredOutput | null, uploadETag: string): boolean {
  return stored !== null && stored.metadata[UPLOAD_ETAG_METADATA] === uploadETag;
}

/** Whether it answers this upload version for good: a gave-up error.json does not (a redrive retries). */
export function isFinalAnswer(stored: StoredOutput | null, uploadETag: string): boolean {
  return answersUploadVersion(stored, uploadETag) && !stored!.metadata[GAVE_UP_METADATA];
}

/** `results/<image id>/event.json`: written only after the event was accepted by the publisher. */
export function eventMarkerKey(keys: ResultKeys): string {
  return `${keys.prefix}${EVENT_MARKER_NAME}`;
}

/** Content of the event marker: the event exactly as published. */
export interface EventMarker {
  readonly publishedAt: string;
  readonly source: typeof EVENT_SOURCE;
  readonly event: CompletionEvent;
}

/** Where completion events go: EventBridge in AWS, the terminal in local runs, an array in tests. */
export interface EventPublisher {
  publish(event: CompletionEvent): Promise<void>;
}

export interface MarkTarget {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly keys: ResultKeys;
  readonly uploadETag: string;
}

/**
 * True when the event for this upload version was already published (its marker exists and
 * names the same upload ETag). A marker for an older upload version does not count.
 */
export async function eventAlreadyPublished(t: MarkTarget): Promise<boolean> {
  return answersUploadVersion(await t.store.head(t.bucket, eventMarkerKey(t.keys)), t.uploadETag);
}

/**
 * Publish, then write the marker. The order makes delivery at-least-once with exactly-once in
 * the normal case: a failed publish leaves no marker (the redelivery publishes again); a marker
 * write that fails after a successful publish leads to one re-send with the same `eventId`.
 *
 * @example
 * await publishAndMark(publisher, event, { store, bucket, keys, uploadETag });
 */
export async function publishAndMark(
  publisher: EventPublisher,
  event: CompletionEvent,
  t: MarkTarget,
  now: () => Date = () => new Date(),
): Promise<void> {
  await publisher.publish(event);
  const marker: EventMarker = { publishedAt: now().toISOString(), source: EVENT_SOURCE, event };
  await t.store.put(
    t.bucket,
    eventMarkerKey(t.keys),
    JSON.stringify(marker, null, 2) + '\n',
    RESULT_CONTENT_TYPES.result, // JSON, as result.json
    answerMetadata(t.uploadETag),
  );
}
