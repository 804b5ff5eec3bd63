import type { LesionError } from '../errors.js';
import type { ProcessDeps } from './process-uploads.js';
import { processMessages, type BatchObserver, type QueueMessage } from './sqs-batch.js';

/** A queue the worker long-polls (SQS in AWS; tests may use a local implementation). */
export interface MessageQueue {
  /** Up to `max` messages, waiting up to `waitSeconds` for the first one. */
  receive(max: number, waitSeconds: number): Promise<(QueueMessage & { receiptHandle: string })[]>;
  delete(receiptHandles: string[]): Promise<void>;
}

export interface WorkerOptions {
  /** Most images in one inference. @default 16 */
  readonly maxBatch?: number;
  /** Long-poll wait. @default 20 */
  readonly waitSeconds?: number;
  readonly observer?: BatchObserver;
  readonly onError?: (e: unknown) => void;
}

/**
 * Long-poll loop of the GPU worker: take what the queue holds (up to maxBatch), run it through
 * the same core as the Lambda with ONE inference, delete the messages that completed. Messages
 * that failed transiently are left to reappear after their visibility timeout; a crash (even
 * SIGKILL) loses nothing because completed work is idempotent.
 */
export class QueueWorker {
  private stopping = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: MessageQueue,
    private readonly deps: ProcessDeps,
    private readonly opts: WorkerOptions = {},
  ) {}

  /** Gather a batch: the first receive long-polls, further ones only drain what is already there. */
  async nextBatch(): Promise<(QueueMessage & { receiptHandle: string })[]> {
    const maxBatch = this.opts.maxBatch ?? 16;
    const batch = await this.queue.receive(Math.min(10, maxBatch), this.opts.waitSeconds ?? 20);
    while (batch.length > 0 && batch.length < maxBatch && !this.stopping) {
      const more = await this.queue.receive(Math.min(10, maxBatch - batch.length), 0);
      if (more.length === 0) break;
      batch.push(...more);
    }
    return batch;
  }

  /** Process one batch; returns how many messages it handled. */
  async runOnce(): Promise<number> {
    const batch = await this.nextBatch();
    if (batch.length === 0) return 0;
    const { retry } = await processMessages(batch, this.deps, this.opts.observer);
    const failed = new Set(retry);
    const done = batch.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
    if (done.length > 0) await this.queue.delete(done);
    return batch.length;
  }

  /** Poll until stop() is called; the batch in flight is finished first. */
  async run(): Promise<void> {
    let release!: () => void;
    this.idle = new Promise((r) => (release = r));
    try {
      while (!this.stopping) {
        try {
          await this.runOnce();
        } catch (e) {
          this.opts.onError?.(e as LesionError);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    } finally {
      release();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.idle;
  }
}
