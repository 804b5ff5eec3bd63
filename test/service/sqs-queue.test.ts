// SqsMessageQueue against a local SQS endpoint on 127.0.0.1: the receive count the "last
// delivery" rule needs comes back with each message (it must be asked for, as with SQS).
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsMessageQueue } from '../../src/service/sqs-queue.js';
import { LocalSqsServer } from '../helpers/sqs-server.js';

let sqs: LocalSqsServer;
let client: SQSClient;
let queue: SqsMessageQueue;

beforeAll(async () => {
  sqs = new LocalSqsServer({ maxReceives: 5 });
  const queueUrl = await sqs.start();
  client = new SQSClient({
    endpoint: new URL(queueUrl).origin,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  queue = new SqsMessageQueue(client, queueUrl);
});

afterAll(async () => {
  client.destroy();
  await sqs.stop();
});

it('reports how often each message was delivered', async () => {
  // Arrange
  const id = sqs.queue.send('{"Records":[]}');

  // Act: received, not deleted, visible again after its timeout, received again
  const first = await queue.receive(10, 0);
  sqs.queue.expireVisibility();
  const second = await queue.receive(10, 0);

  // Assert
  expect(first.map((m) => [m.messageId, m.receiveCount])).toEqual([[id, 1]]);
  expect(second.map((m) => [m.messageId, m.receiveCount])).toEqual([[id, 2]]);
});
