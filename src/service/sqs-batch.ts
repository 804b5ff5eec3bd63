import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { isLesionError, MessageError, type LesionError } from '../errors.js';
import { parseS3Notification, type UploadRef } from './events.js';
import {
  giveUp,
  processUploads,
  uploadIdentity,
  type ProcessDeps,
  type UploadOutcome,
} from './process-uploads.js';

/** What the adapters (Lambda, GPU worker, local run) log and count; no image bytes, no URLs. */
export interface BatchObserver {
  onOutcome?(messageId: string, outcome: UploadOutcome): void;
  onRetry?(messageId: string, error: LesionError): void;
  onDropped?(messageId: string, error: MessageError): void;
  /** The message's last delivery failed: its upload was answered with a retryable error.json. */
  onGaveUp?(messageId: string, outcome: UploadOutcome): void;
  /** Answering a last delivery failed too (storage or bus still down): the upload stays pending. */
  onGiveUpFailed?(messageId: string, error: LesionError): void;
}

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  /** Deliveries so far, this one included (SQS ApproximateReceiveCount); unknown = undefined. */
  readonly receiveCount?: number;
  /** When the queue first received it (SQS SentTimestamp, ms since the epoch), if known. */
  readonly sentAt?: number;
}

/** SQS's ApproximateReceiveCount attribute (a string; absent unless asked for) as a count. */
export function receiveCountOf(attribute: string | undefined): number | undefined {
  return Number(attribute) || undefined;
}

/**
 * Handle queue messages holding S3 notifications: every upload of every message goes through
 * one `processUploads` call (one inference). Returns the ids of messages to retry — those with
 * a transient failure. Malformed messages are dropped (retrying cannot fix them). On a message's
 * last delivery (`config.maxReceiveCount`) a transient failure is also answered (`giveUp`); the
 * message is still returned for retry, so the queue moves it to the dead-letter queue.
 */
export async function processMessages(
  messages: readonly QueueMessage[],
  deps: ProcessDeps,
  observer: BatchObserver = {},
): Promise<{ retry: string[]; outcomes: Map<string, UploadOutcome[]> }> {
  const owners: { messageId: string; ref: UploadRef; lastDelivery: number | null }[] = [];
  const max = deps.config.maxReceiveCount;
  for (const m of messages) {
    const lastDelivery = max > 0 && (m.receiveCount ?? 0) >= max ? m.receiveCount! : null;
    try {
      for (const ref of parseS3Notification(m.body))
        owners.push({ messageId: m.messageId, ref, lastDelivery });
    } catch (e) {
      if (!(e instanceof MessageError)) throw e;
      observer.onDropped?.(m.messageId, e);
    }
  }
  const results = await processUploads(
    owners.map((o) => o.ref),
    deps,
  );
  const retry = new Set<string>();
  const outcomes = new Map<string, UploadOutcome[]>();
  const record = (messageId: string, o: UploadOutcome) =>
    outcomes.set(messageId, [...(outcomes.get(messageId) ?? []), o]);
  const givingUp: Promise<void>[] = [];
  const givenUp = new Set<string>(); // an upload named twice in the batch is answered once
  results.forEach((r, i) => {
    const { messageId, ref, lastDelivery } = owners[i]!;
    if (isLesionError(r)) {
      retry.add(messageId);
      observer.onRetry?.(messageId, r);
      const upload = uploadIdentity(ref);
      if (lastDelivery === null || givenUp.has(upload)) return;
      givenUp.add(upload);
      givingUp.push(
        giveUp(ref, r, lastDelivery, deps).then(
          (o) => {
            if (!o) return; // already answered: that answer stands
            record(messageId, o);
            observer.onGaveUp?.(messageId, o);
          },
          (e: unknown) => {
            if (!isLesionError(e)) throw e;
            observer.onGiveUpFailed?.(messageId, e); // the dead-letter queue still keeps the message
          },
        ),
      );
    } else {
      record(messageId, r);
      observer.onOutcome?.(messageId, r);
    }
  });
  await Promise.all(givingUp);
  return { retry: [...retry], outcomes };
}

/** The Lambda core (callable without middy): SQS event → partial batch response. */
export async function handleSqsEvent(
  event: SQSEvent,
  deps: ProcessDeps,
  observer?: BatchObserver,
): Promise<SQSBatchResponse> {
  const { retry } = await processMessages(
    event.Records.map((r) => ({
      messageId: r.messageId,
      body: r.body,
      receiveCount: receiveCountOf(r.attributes?.ApproximateReceiveCount),
    })),
    deps,
    observer,
  );
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
}
