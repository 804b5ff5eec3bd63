import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { StorageError } from '../errors.js';
import type { AnalysisResult, ErrorResult } from '../pipeline/result.js';
import type { ResultKeys } from '../storage/keys.js';

export const EVENT_SOURCE = 'lesion-mtl';
export const DetailType = {
  COMPLETED: 'LesionAnalysisCompleted',
  FAILED: 'LesionAnalysisFailed',
} as const;

export interface CompletionEvent {
  readonly detailType: (typeof DetailType)[keyof typeof DetailType];
  readonly detail: {
    readonly imageId: string;
    readonly bucket: string | null;
    readonly imageKey: string | null;
    readonly resultKeys: Partial<Record<'result' | 'error' | 'mask' | 'overlay' | 'fhir', string>>;
    readonly probabilities: { readonly melanoma: number; readonly seborrheicKeratosis: number } | null;
    readonly flags: readonly string[];
    readonly withheld: boolean | null;
    readonly errorCode: string | null;
    readonly model: { readonly name: string; readonly version: string } | null;
  };
}

/** Where completion events go: EventBridge in AWS, the terminal in local runs, an array in tests. */
export interface EventPublisher {
  publish(event: CompletionEvent): Promise<void>;
}

/** The event for one finished upload (result or error). */
export function completionEvent(
  o: { status: 'ok'; result: AnalysisResult; keys: ResultKeys } | { status: 'error'; error: ErrorResult; keys: ResultKeys },
): CompletionEvent {
  if (o.status === 'ok') {
    const r = o.result;
    return {
      detailType: DetailType.COMPLETED,
      detail: {
        imageId: r.image.id,
        bucket: r.image.bucket,
        imageKey: r.image.key,
        resultKeys: { result: o.keys.result, mask: o.keys.mask, overlay: o.keys.overlay, fhir: o.keys.fhir },
        probabilities: {
          melanoma: r.classification.melanoma.probability,
          seborrheicKeratosis: r.classification.seborrheicKeratosis.probability,
        },
        flags: r.quality.flags,
        withheld: r.classification.withheld,
        errorCode: null,
        model: { name: r.model.name, version: r.model.version },
      },
    };
  }
  const e = o.error;
  return {
    detailType: DetailType.FAILED,
    detail: {
      imageId: e.image.id,
      bucket: e.image.bucket,
      imageKey: e.image.key,
      resultKeys: { error: o.keys.error },
      probabilities: null,
      flags: [],
      withheld: null,
      errorCode: e.error.code,
      model: e.model ? { name: e.model.name, version: e.model.version } : null,
    },
  };
}

/**
 * Publishes to an EventBridge bus. Exactly-once per upload comes from the caller: events are
 * only sent after a result was newly written, never for a duplicate delivery.
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
            { EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: event.detailType, Detail: JSON.stringify(event.detail) },
          ],
        }),
      );
      failed = r.FailedEntryCount ?? 0;
    } catch (cause) {
      throw new StorageError(`EventBridge PutEvents to ${this.busName} failed`, { cause });
    }
    if (failed > 0) throw new StorageError(`EventBridge rejected the ${event.detailType} event on ${this.busName}`);
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
