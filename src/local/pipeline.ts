import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DEFAULT_LAMBDA_BATCH_SIZE,
  DEFAULT_MAX_RECEIVE_COUNT,
  loadConfig,
  type LesionConfig,
} from '../config.js';
import { LesionAnalyzer } from '../pipeline/analyzer.js';
import type { UploadOutcome } from '../service/process-uploads.js';
import { MemoryPublisher } from '../service/publish.js';
import { processMessages, type QueueMessage } from '../service/sqs-batch.js';
import { S3ObjectStore, type ObjectStore } from '../storage/s3.js';
import { startLocalS3, type LocalS3 } from './s3-server.js';

export interface LocalPipelineOptions {
  readonly config?: Partial<LesionConfig>;
  readonly analyzer?: LesionAnalyzer;
  /** Messages per processing call (the Lambda's SQS batch size). @default 4 */
  readonly batchSize?: number;
  /** Receives before a message goes to the dead-letter list (the queue's maxReceiveCount). @default 3 */
  readonly maxReceives?: number;
  /** Wrap the store (fault injection in tests). */
  readonly wrapStore?: (store: ObjectStore) => ObjectStore;
  readonly printEvents?: (line: string) => void;
}

interface Pending extends QueueMessage {
  receives: number;
}

/**
 * The whole pipeline on one machine with no AWS account: a real S3-compatible server on
 * 127.0.0.1, its ObjectCreated notifications queued like SQS (redelivery, maxReceiveCount,
 * dead-letter list), and the Lambda's own batch core processing them.
 *
 * @example
 * const p = await LocalPipeline.start();
 * await p.upload('uploads/ISIC_0000000.jpg', bytes);
 * await p.drain();
 */
export class LocalPipeline {
  readonly outcomes: UploadOutcome[] = [];
  readonly deadLetters: QueueMessage[] = [];
  private readonly queue: Pending[] = [];

  private constructor(
    readonly s3: LocalS3,
    readonly store: ObjectStore,
    readonly analyzer: LesionAnalyzer,
    readonly config: LesionConfig,
    readonly publisher: MemoryPublisher,
    private readonly opts: LocalPipelineOptions,
  ) {
    s3.onObjectCreated((body) => {
      // only uploads are queued, as the bucket notification's prefix filter does in AWS
      if (body.includes(`"key":"${config.uploadsPrefix}`))
        this.queue.push({ messageId: randomUUID(), body, receives: 0 });
    });
  }

  static async start(opts: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    const config = { ...loadConfig(), executionProvider: 'cpu' as const, ...opts.config };
    const analyzer = opts.analyzer ?? (await LesionAnalyzer.create({ config }));
    const s3 = await startLocalS3();
    const base = new S3ObjectStore(s3.client);
    const store = opts.wrapStore ? opts.wrapStore(base) : base;
    return new LocalPipeline(s3, store, analyzer, config, new MemoryPublisher(opts.printEvents), opts);
  }

  get bucket(): string {
    return this.s3.bucket;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Put an object into the local bucket (fires a notification like S3 does). */
  async upload(key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    await this.s3.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  /** Queue a raw message body (e.g. a malformed one, or a redelivery). */
  enqueue(body: string): void {
    this.queue.push({ messageId: randomUUID(), body, receives: 0 });
  }

  /** Process queued messages until the queue is empty; failed messages are retried, then dead-lettered. */
  async drain(): Promise<void> {
    const size = this.opts.batchSize ?? DEFAULT_LAMBDA_BATCH_SIZE;
    const maxReceives = this.opts.maxReceives ?? DEFAULT_MAX_RECEIVE_COUNT;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, size);
      for (const m of batch) m.receives++;
      const { retry, outcomes } = await processMessages(
        batch.map((m) => ({ messageId: m.messageId, body: m.body, receiveCount: m.receives })),
        {
          analyzer: this.analyzer,
          store: this.store,
          config: { ...this.config, maxReceiveCount: maxReceives },
          publisher: this.publisher,
        },
      );
      for (const list of outcomes.values()) this.outcomes.push(...list);
      const failed = new Set(retry);
      for (const m of batch) {
        if (!failed.has(m.messageId)) continue;
        if (m.receives >= maxReceives) this.deadLetters.push({ messageId: m.messageId, body: m.body });
        else this.queue.push(m);
      }
    }
  }

  async stop(opts: { disposeAnalyzer?: boolean } = {}): Promise<void> {
    await this.s3.stop();
    if (opts.disposeAnalyzer ?? !this.opts.analyzer) await this.analyzer.dispose();
  }
}
