// Completion-event publishers: EventBridge in AWS, memory (and the terminal) in local runs and tests.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { MessagingError } from '../errors.js';
import type { EventPublisher } from '../results/answer.js';
import { EVENT_SOURCE, type CompletionEvent } from '../results/completion-event.js';

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
      throw new MessagingError(`EventBridge PutEvents to ${this.busName} failed`, { cause });
    }
    if (failed > 0)
      throw new MessagingError(`EventBridge rejected the ${event.detailType} event on ${this.busName}`);
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
