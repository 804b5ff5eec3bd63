// EventBridge and SQS failures are MessagingError (code MESSAGING_UNAVAILABLE, retryable), not
// StorageError: real SDK clients against 127.0.0.1, a closed port for "unreachable" and a small
// HTTP server that answers PutEvents with a rejected entry.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ErrorCode, MessagingError } from '../../src/errors.js';
import { DetailType, type CompletionEvent } from '../../src/results/completion-event.js';
import { EventBridgePublisher } from '../../src/service/publish.js';
import { SqsMessageQueue } from '../../src/service/sqs-queue.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const CLOSED = 'http://127.0.0.1:1';

const event: CompletionEvent = {
  detailType: DetailType.FAILED,
  detail: {
    eventId: 'e',
    imageId: 'x.jpg',
    bucket: 'b',
    imageKey: 'uploads/x.jpg',
    uploadETag: 'etag',
    resultsBucket: 'b',
    resultKeys: { error: 'results/x.jpg/error.json' },
    probabilities: null,
    flags: [],
    withheld: null,
    errorCode: ErrorCode.CORRUPT_IMAGE,
    retryable: false,
    model: null,
  },
};

async function expectMessagingError(p: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MessagingError);
  expect(error).toMatchObject({ code: ErrorCode.MESSAGING_UNAVAILABLE, retryable: true });
  expect((error as Error).message).toMatch(message);
}

describe('EventBridgePublisher', () => {
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    // PutEvents accepted at the HTTP level, but its one entry rejected (as on throttling)
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({
            FailedEntryCount: 1,
            Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('throws MessagingError when EventBridge cannot be reached', async () => {
    const client = new EventBridgeClient({
      endpoint: CLOSED,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    await expectMessagingError(
      new EventBridgePublisher(client, 'bus').publish(event),
      /PutEvents to bus failed/,
    );
    client.destroy();
  });

  it('throws MessagingError when EventBridge rejects the entry', async () => {
    const client = new EventBridgeClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    await expectMessagingError(
      new EventBridgePublisher(client, 'bus').publish(event),
      /rejected the LesionAnalysisFailed event on bus/,
    );
    client.destroy();
  });
});

describe('SqsMessageQueue', () => {
  it('throws MessagingError when SQS cannot be reached, on receive and on delete', async () => {
    const client = new SQSClient({ endpoint: CLOSED, region: 'us-east-1', credentials, maxAttempts: 1 });
    const queue = new SqsMessageQueue(client, `${CLOSED}/000000000000/q`);
    await expectMessagingError(queue.receive(1, 0), /ReceiveMessage failed/);
    await expectMessagingError(queue.delete(['handle']), /DeleteMessageBatch failed/);
    client.destroy();
  });
});
