import { createHash } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { StorageError } from '../errors.js';
import type { AnalysisResult, ErrorResult } from '../pipeline/result.js';
import type { ResultKeys } from '../storage/keys.js';
import type { ObjectStore } from '../storage/s3.js';

import { DetailType, EVENT_SOURCE } from './event-types.js';

export { DetailType, EVENT_SOURCE };

/** Metadata on every result object and on the event marker: the upload version it belongs to. */
export const SOURCE_ETAG_METADATA = 'source-etag';

/** File name of the event marker beside result.json / error.json. */
export const EVENT_MARKER_NAME = 'event.json';

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

/** Where completion events go: EventBridge in AWS, the terminal in local runs, an array in tests. */
export interface EventPublisher {
  publish(event: CompletionEvent): Promise<void>;
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

/** `results/<id>/event.json`: written only after the event was accepted by the publisher. */
export function eventMarkerKey(keys: ResultKeys): string {
  return `${keys.prefix}${EVENT_MARKER_NAME}`;
}

/** Content of the event marker: the event exactly as published. */
export interface EventMarker {
  readonly publishedAt: string;
  readonly source: typeof EVENT_SOURCE;
  readonly event: CompletionEvent;
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
  const marker = await t.store.head(t.bucket, eventMarkerKey(t.keys));
  return marker !== null && marker.metadata[SOURCE_ETAG_METADATA] === t.uploadETag;
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
    'application/json',
    {
      [SOURCE_ETAG_METADATA]: t.uploadETag,
    },
  );
}

/**
 * Publishes to an EventBridge bus. Exactly-once per upload comes from the caller
 * (`publishAndMark` and the redelivery check in processUploads).
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(event: CompletionEvent): Promise<void> {
    let failed = 0;
    try {
      const r = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.busName,
              Source: EVENT_SOURCE,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
            },
          ],
        }),
      );
      failed = r.FailedEntryCount ?? 0;
    } catch (cause) {
      throw new StorageError(`EventBridge PutEvents to ${this.busName} failed`, { cause });
    }
    if (failed > 0)
      throw new StorageError(`EventBridge rejected the ${event.detailType} event on ${this.busName}`);
  }
}

/** Collects events in memory and optionally prints them (local runs, tests). */
export class MemoryPublisher implements EventPublisher {
  readonly events: CompletionEvent[] = [];
  constructor(private readonly print?: (line: string) => void) {}

  async publish(event: CompletionEvent): Promise<void> {
    this.events.push(event);
    this.print?.(`event ${event.detailType} ${JSON.stringify(event.detail)}`);
  }
}

export function createEventBridgePublisher(busName: string): EventBridgePublisher {
  return new EventBridgePublisher(new EventBridgeClient({ maxAttempts: 4 }), busName);
}
