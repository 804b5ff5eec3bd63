/**
 * A local SQS endpoint on 127.0.0.1 speaking the AWS JSON 1.0 protocol of @aws-sdk/client-sqs
 * (ReceiveMessage, DeleteMessageBatch), so a real worker *process* can be killed and restarted
 * against a queue that outlives it. The queue itself is {@link MemoryQueue} (its SQS semantics:
 * in-flight until deleted or `expireVisibility`, dead-lettered after `maxReceives`); this is
 * only its HTTP adapter. Long polls are capped at `maxWaitMs` so tests stay fast.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryQueue } from './memory-queue.js';

export class LocalSqsServer {
  readonly queue: MemoryQueue;
  private server: Server | null = null;
  private readonly maxWaitMs: number;

  constructor(opts: { maxReceives?: number; maxWaitMs?: number } = {}) {
    this.queue = new MemoryQueue(opts.maxReceives ?? 5);
    this.maxWaitMs = opts.maxWaitMs ?? 200;
  }

  /** Messages not yet deleted nor dead-lettered. */
  get pending(): number {
    return this.queue.visible + this.queue.inFlight;
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
      let messages = await this.queue.receive(max, 0);
      while (messages.length === 0 && Date.now() < deadline && !res.destroyed) {
        await new Promise((r) => setTimeout(r, 10));
        messages = await this.queue.receive(max, 0);
      }
      // like SQS, system attributes only when asked for
      const asked = [
        ...((input.MessageSystemAttributeNames as string[] | undefined) ?? []),
        ...((input.AttributeNames as string[] | undefined) ?? []),
      ];
      const wants = (name: string) => asked.includes(name) || asked.includes('All');
      const attributes = (m: (typeof messages)[number]) => ({
        ...(wants('ApproximateReceiveCount') ? { ApproximateReceiveCount: String(m.receiveCount) } : {}),
        ...(wants('SentTimestamp') ? { SentTimestamp: String(m.sentAt) } : {}),
      });
      const wire = messages.map((m) => ({
        MessageId: m.messageId,
        ReceiptHandle: m.receiptHandle,
        Body: m.body,
        ...(Object.keys(attributes(m)).length ? { Attributes: attributes(m) } : {}),
        MD5OfBody: createHash('md5').update(m.body).digest('hex'), // the SDK checks it
      }));
      return reply(200, wire.length ? { Messages: wire } : {});
    }
    if (target === 'AmazonSQS.DeleteMessageBatch') {
      const entries = (input.Entries ?? []) as { Id: string; ReceiptHandle: string }[];
      await this.queue.delete(entries.map((e) => e.ReceiptHandle));
      return reply(200, { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] });
    }
    reply(400, { __type: 'com.amazon.coral.service#UnknownOperationException', message: target });
  }
}
