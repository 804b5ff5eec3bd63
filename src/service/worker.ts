import { DEFAULT_WORKER_MAX_BATCH } from '../config.js';
import type { LesionError } from '../errors.js';
import type { ProcessDeps, UploadOutcome } from './process-uploads.js';
import { processMessages, type BatchObserver, type QueueMessage } from './sqs-batch.js';
import { SQS_MAX_MESSAGES_PER_CALL } from './sqs-limits.js';

/** A queue the worker long-polls (SQS in AWS; tests may use a local implementation). */
export interface MessageQueue {
  /** Up to `max` messages, waiting up to `waitSeconds` for the first one. */
  receive(max: number, waitSeconds: number): Promise<(QueueMessage & { receiptHandle: string })[]>;
  delete(receiptHandles: string[]): Promise<void>;
}

export interface WorkerOptions {
  /** Most images in one inference. @default DEFAULT_WORKER_MAX_BATCH (16, src/config.ts) */
  readonly maxBatch?: number;
  /** Long-poll wait. @default 20 */
  readonly waitSeconds?: number;
  readonly observer?: BatchObserver;
  readonly onError?: (e: unknown) => void;
  /** Every receive that answered (empty or not): the worker can reach its queue. */
  readonly onPolled?: (at: number) => void;
  /** One call per processed batch, with where its time went. */
  readonly onBatch?: (stats: BatchStats) => void;
  /** The clock (ms since the epoch); tests may pass their own. @default Date.now */
  readonly now?: () => number;
}

/** Where one batch's time went: the worker's per-batch log line and metrics. */
export interface BatchStats {
  readonly messages: number;
  /** Uploads answered with a result (analysed) or an error.json (rejected). */
  readonly analyzed: number;
  readonly rejected: number;
  /** Messages left on the queue for a retry (transient failures). */
  readonly retried: number;
  /** Wall time of each step of the loop. */
  readonly ms: {
    readonly receive: number;
    readonly process: number;
    readonly delete: number;
    readonly total: number;
  };
  /**
   * The analysis stages summed over the batch's analysed uploads (inference is batched, so its
   * per-upload shares add up to the one run); `storageAndOther` is the rest of `ms.process`:
   * S3 reads and writes, events, and waiting.
   */
  readonly stagesMs: {
    readonly decode: number;
    readonly inference: number;
    readonly postprocess: number;
    readonly encode: number;
    readonly storageAndOther: number;
  };
  /** Time from SentTimestamp to pick-up, over the messages that carry it; null when none did. */
  readonly queueAgeMs: { readonly max: number; readonly mean: number } | null;
  /** Uploads answered per second of the batch's total wall time. */
  readonly imagesPerSecond: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Pure: a batch's statistics from its messages, outcomes and step timings. */
export function batchStats(input: {
  readonly messages: readonly QueueMessage[];
  readonly outcomes: ReadonlyMap<string, readonly UploadOutcome[]>;
  readonly retried: number;
  readonly pickedUpAt: number;
  readonly ms: { readonly receive: number; readonly process: number; readonly delete: number };
}): BatchStats {
  const all = [...input.outcomes.values()].flat();
  const ok = all.flatMap((o) => (o.status === 'ok' ? [o.result.timingsMs] : []));
  const rejected = all.filter((o) => o.status === 'error').length;
  const sum = (k: 'decode' | 'inference' | 'postprocess' | 'encode') => ok.reduce((a, t) => a + t[k], 0);
  const stages = {
    decode: sum('decode'),
    inference: sum('inference'),
    postprocess: sum('postprocess'),
    encode: sum('encode'),
  };
  const analysisMs = stages.decode + stages.inference + stages.postprocess + stages.encode;
  const ages = input.messages.flatMap((m) =>
    m.sentAt === undefined ? [] : [Math.max(0, input.pickedUpAt - m.sentAt)],
  );
  const total = input.ms.receive + input.ms.process + input.ms.delete;
  const answered = ok.length + rejected;
  return {
    messages: input.messages.length,
    analyzed: ok.length,
    rejected,
    retried: input.retried,
    ms: {
      receive: round1(input.ms.receive),
      process: round1(input.ms.process),
      delete: round1(input.ms.delete),
      total: round1(total),
    },
    stagesMs: {
      decode: round1(stages.decode),
      inference: round1(stages.inference),
      postprocess: round1(stages.postprocess),
      encode: round1(stages.encode),
      storageAndOther: round1(Math.max(0, input.ms.process - analysisMs)),
    },
    queueAgeMs:
      ages.length === 0
        ? null
        : { max: Math.max(...ages), mean: round1(ages.reduce((a, b) => a + b, 0) / ages.length) },
    imagesPerSecond: total > 0 ? round1((answered * 1000) / total) : 0,
  };
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
    const maxBatch = this.opts.maxBatch ?? DEFAULT_WORKER_MAX_BATCH;
    const batch = await this.queue.receive(
      Math.min(SQS_MAX_MESSAGES_PER_CALL, maxBatch),
      this.opts.waitSeconds ?? 20,
    );
    while (batch.length > 0 && batch.length < maxBatch && !this.stopping) {
      const more = await this.queue.receive(Math.min(SQS_MAX_MESSAGES_PER_CALL, maxBatch - batch.length), 0);
      if (more.length === 0) break;
      batch.push(...more);
    }
    return batch;
  }

  /** Process one batch; returns how many messages it handled. */
  async runOnce(): Promise<number> {
    const now = this.opts.now ?? Date.now;
    const t0 = performance.now();
    const batch = await this.nextBatch();
    const pickedUpAt = now();
    this.opts.onPolled?.(pickedUpAt);
    if (batch.length === 0) return 0;
    const t1 = performance.now();
    const { retry, outcomes } = await processMessages(batch, this.deps, this.opts.observer);
    const t2 = performance.now();
    const failed = new Set(retry);
    const done = batch.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
    if (done.length > 0) await this.queue.delete(done);
    const t3 = performance.now();
    this.opts.onBatch?.(
      batchStats({
        messages: batch,
        outcomes,
        retried: failed.size,
        pickedUpAt,
        ms: { receive: t1 - t0, process: t2 - t1, delete: t3 - t2 },
      }),
    );
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
