import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MessagingError } from '../errors.js';
import { receiveCountOf } from './sqs-batch.js';
import { SQS_MAX_MESSAGES_PER_CALL } from './sqs-limits.js';
import type { MessageQueue } from './worker.js';

/** MessageQueue over an SQS queue URL. */
export class SqsMessageQueue implements MessageQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async receive(max: number, waitSeconds: number) {
    try {
      const r = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      return (r.Messages ?? []).map((m) => ({
        messageId: m.MessageId!,
        body: m.Body ?? '',
        receiveCount: receiveCountOf(m.Attributes?.ApproximateReceiveCount),
        sentAt: Number(m.Attributes?.SentTimestamp) || undefined,
        receiptHandle: m.ReceiptHandle!,
      }));
    } catch (cause) {
      throw new MessagingError('SQS ReceiveMessage failed', { cause });
    }
  }

  async delete(receiptHandles: string[]): Promise<void> {
    for (let i = 0; i < receiptHandles.length; i += SQS_MAX_MESSAGES_PER_CALL) {
      const chunk = receiptHandles.slice(i, i + SQS_MAX_MESSAGES_PER_CALL);
      try {
        await this.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((h, j) => ({ Id: String(j), ReceiptHandle: h })),
          }),
        );
      } catch (cause) {
        // not deleted = redelivered later; idempotent writes make that harmless
        throw new MessagingError('SQS DeleteMessageBatch failed', { cause });
      }
    }
  }
}
