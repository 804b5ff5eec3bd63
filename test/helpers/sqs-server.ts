/**
 * A local SQS endpoint on 127.0.0.1 speaking the AWS JSON 1.0 protocol of @aws-sdk/client-sqs
 * (ReceiveMessage, DeleteMessageBatch), so a real worker *process* can be killed and restarted
 * against a queue that outlives it. Semantics kept from SQS: a received message is invisible
 * until deleted or until its visibility timeout ends; after `maxReceives` receives it moves to
 * the dead-letter list; a stale receipt handle is ignored. Long polls are capped at
 * `maxWaitMs` so tests stay fast.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Stored {
  readonly messageId: string;
  readonly body: string;
  receives: number;
  receiptHandle: string | null;
  visibleAt: number;
}

export interface SqsServerOptions {
  readonly visibilityTimeoutMs?: number;
  readonly maxReceives?: number;
  readonly maxWaitMs?: number;
}

export class LocalSqsServer {
  private readonly messages: Stored[] = [];
  readonly deadLetters: string[] = [];
  /** messageIds in the order they were deleted (completed). */
  readonly deleted: string[] = [];
  /** How many messages each ReceiveMessage call returned. */
  readonly receives: number[] = [];
  private server: Server | null = null;
  private readonly visibilityMs: number;
  private readonly maxReceives: number;
  private readonly maxWaitMs: number;

  constructor(opts: SqsServerOptions = {}) {
    this.visibilityMs = opts.visibilityTimeoutMs ?? 30_000;
    this.maxReceives = opts.maxReceives ?? 5;
    this.maxWaitMs = opts.maxWaitMs ?? 200;
  }

  send(body: string): string {
    const messageId = randomUUID();
    this.messages.push({ messageId, body, receives: 0, receiptHandle: null, visibleAt: 0 });
    return messageId;
  }

  /** Messages not yet deleted nor dead-lettered. */
  get pending(): number {
    return this.messages.length;
  }

  get inFlight(): number {
    return this.inFlightIds().length;
  }

  /** messageIds received and neither deleted nor visible again. */
  inFlightIds(): string[] {
    const now = Date.now();
    return this.messages.filter((m) => m.receiptHandle !== null && m.visibleAt > now).map((m) => m.messageId);
  }

  /** How often each message (still queued or deleted) was received. */
  readonly receiveCounts = new Map<string, number>();

  /** End every visibility timeout now (what happens a while after a consumer dies). */
  expireVisibility(): void {
    for (const m of this.messages) m.visibleAt = 0;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/000000000000/lesion-uploads`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private take(max: number): { MessageId: string; ReceiptHandle: string; Body: string; MD5OfBody: string }[] {
    const now = Date.now();
    const out = [];
    for (let i = 0; i < this.messages.length && out.length < max;) {
      const m = this.messages[i]!;
      if (m.visibleAt > now) {
        i++;
        continue;
      }
      if (m.receives >= this.maxReceives) {
        this.deadLetters.push(m.messageId);
        this.messages.splice(i, 1);
        continue;
      }
      m.receives++;
      this.receiveCounts.set(m.messageId, m.receives);
      m.receiptHandle = randomUUID();
      m.visibleAt = now + this.visibilityMs;
      out.push({
        MessageId: m.messageId,
        ReceiptHandle: m.receiptHandle,
        Body: m.body,
        MD5OfBody: createHash('md5').update(m.body).digest('hex'),
      });
      i++;
    }
    return out;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const target = String(req.headers['x-amz-target'] ?? '');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(body));
    };
    if (target === 'AmazonSQS.ReceiveMessage') {
      const max = Number(input.MaxNumberOfMessages ?? 1);
      const deadline = Date.now() + Math.min(this.maxWaitMs, Number(input.WaitTimeSeconds ?? 0) * 1000);
      let messages = this.take(max);
      while (messages.length === 0 && Date.now() < deadline && !res.destroyed) {
        await new Promise((r) => setTimeout(r, 10));
        messages = this.take(max);
      }
      this.receives.push(messages.length);
      return reply(200, messages.length ? { Messages: messages } : {});
    }
    if (target === 'AmazonSQS.DeleteMessageBatch') {
      const entries = (input.Entries ?? []) as { Id: string; ReceiptHandle: string }[];
      for (const e of entries) {
        const i = this.messages.findIndex((m) => m.receiptHandle === e.ReceiptHandle);
        if (i < 0) continue; // stale handle: SQS ignores it as well
        this.deleted.push(this.messages[i]!.messageId);
        this.messages.splice(i, 1);
      }
      return reply(200, { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] });
    }
    reply(400, { __type: 'com.amazon.coral.service#UnknownOperationException', message: target });
  }
}
