/**
 * An in-memory queue with SQS semantics for QueueWorker tests: a received message is hidden until
 * it is deleted or its visibility times out (`expireVisibility`), then it reappears; after
 * `maxReceives` receives it moves to the dead-letter list instead.
 */
import { randomUUID } from 'node:crypto';
import type { QueueMessage } from '../../src/service/sqs-batch.js';
import type { MessageQueue } from '../../src/service/worker.js';

interface Stored {
  readonly messageId: string;
  readonly body: string;
  /** SQS SentTimestamp: when send() took it. */
  readonly sentAt: number;
  receives: number;
  receiptHandle: string | null;
}

export class MemoryQueue implements MessageQueue {
  private readonly messages: Stored[] = [];
  readonly deadLetters: QueueMessage[] = [];
  readonly deleted: string[] = [];
  private readonly receiveCounts = new Map<string, number>();

  constructor(private readonly maxReceives = 3) {}

  send(body: string): string {
    const messageId = randomUUID();
    this.messages.push({ messageId, body, sentAt: Date.now(), receives: 0, receiptHandle: null });
    return messageId;
  }

  /** Visible (not in flight) messages. */
  get visible(): number {
    return this.messages.filter((m) => m.receiptHandle === null).length;
  }

  get inFlight(): number {
    return this.inFlightIds().length;
  }

  /** messageIds received and neither deleted nor visible again. */
  inFlightIds(): string[] {
    return this.messages.filter((m) => m.receiptHandle !== null).map((m) => m.messageId);
  }

  /** How often a message (still queued or already deleted) was received. */
  receiveCount(messageId: string): number | undefined {
    return this.receiveCounts.get(messageId);
  }

  /**
   * Up to `max` visible messages. An empty queue waits a little (a long poll scaled down to
   * 20 ms at most) so a polling loop yields to timers and I/O instead of spinning.
   */
  async receive(max: number, waitSeconds = 0): Promise<(QueueMessage & { receiptHandle: string })[]> {
    if (this.visible === 0 && waitSeconds > 0)
      await new Promise((r) => setTimeout(r, Math.min(20, waitSeconds * 1000)));
    const out: (QueueMessage & { receiptHandle: string })[] = [];
    for (const m of this.messages) {
      if (out.length >= max) break;
      if (m.receiptHandle !== null) continue;
      m.receives++;
      this.receiveCounts.set(m.messageId, m.receives);
      m.receiptHandle = randomUUID();
      out.push({
        messageId: m.messageId,
        body: m.body,
        receiveCount: m.receives,
        sentAt: m.sentAt,
        receiptHandle: m.receiptHandle,
      });
    }
    return out;
  }

  async delete(receiptHandles: string[]): Promise<void> {
    for (const h of receiptHandles) {
      const i = this.messages.findIndex((m) => m.receiptHandle === h);
      if (i < 0) continue; // a stale handle: SQS ignores it too
      this.deleted.push(this.messages[i]!.messageId);
      this.messages.splice(i, 1);
    }
  }

  /** The visibility timeout passes: in-flight messages reappear, or are dead-lettered. */
  expireVisibility(): void {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.receiptHandle === null) continue;
      m.receiptHandle = null;
      if (m.receives >= this.maxReceives) {
        this.deadLetters.push({ messageId: m.messageId, body: m.body });
        this.messages.splice(i, 1);
      }
    }
  }
}
