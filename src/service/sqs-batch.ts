import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { isLesionError, MessageError, type LesionError } from '../errors.js';
import { parseS3Notification, type UploadRef } from './events.js';
import { processUploads, type ProcessDeps, type UploadOutcome } from './process-uploads.js';

/** What the adapters (Lambda, GPU worker, local run) log and count; no image bytes, no URLs. */
export interface BatchObserver {
  onOutcome?(messageId: string, outcome: UploadOutcome): void;
  onRetry?(messageId: string, error: LesionError): void;
  onDropped?(messageId: string, error: MessageError): void;
}

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
}

/**
 * Handle queue messages holding S3 notifications: every upload of every message goes through
 * one `processUploads` call (one inference). Returns the ids of messages to retry — those with
 * a transient failure. Malformed messages are dropped (retrying cannot fix them).
 */
export async function processMessages(
  messages: readonly QueueMessage[],
  deps: ProcessDeps,
  observer: BatchObserver = {},
): Promise<{ retry: string[]; outcomes: Map<string, UploadOutcome[]> }> {
  const owners: { messageId: string; ref: UploadRef }[] = [];
  for (const m of messages) {
    try {
      for (const ref of parseS3Notification(m.body)) owners.push({ messageId: m.messageId, ref });
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
  results.forEach((r, i) => {
    const { messageId } = owners[i]!;
    if (isLesionError(r)) {
      retry.add(messageId);
      observer.onRetry?.(messageId, r);
    } else {
      outcomes.set(messageId, [...(outcomes.get(messageId) ?? []), r]);
      observer.onOutcome?.(messageId, r);
    }
  });
  return { retry: [...retry], outcomes };
}

/** The Lambda core (callable without middy): SQS event → partial batch response. */
export async function handleSqsEvent(
  event: SQSEvent,
  deps: ProcessDeps,
  observer?: BatchObserver,
): Promise<SQSBatchResponse> {
  const { retry } = await processMessages(
    event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
    deps,
    observer,
  );
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
}
