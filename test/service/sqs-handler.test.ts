import {
  ErrorCode,
  InferenceError,
  MessagingError,
  type LesionError,
  type MessageError,
} from '../../src/errors.js';
import type { LesionSession } from '../../src/inference/session.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { ErrorResult } from '../../src/results/result.js';
import type { UploadOutcome } from '../../src/service/process-uploads.js';
import type { EventPublisher } from '../../src/results/answer.js';
import type { CompletionEvent } from '../../src/results/completion-event.js';
import { MemoryPublisher } from '../../src/service/publish.js';
import { handleSqsEvent, type BatchObserver } from '../../src/service/sqs-batch.js';
import { resultKeys } from '../../src/results/keys.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { faults, FaultyStore } from '../helpers/faults.js';
import { fixtures, readSamples } from '../helpers/images.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { getJson, headOrNull, listAll } from '../helpers/s3.js';
import { errorSchemaErrors } from '../helpers/schema.js';
import { s3NotificationBody, sqsEvent, sqsRecord } from '../helpers/sqs.js';

let analyzer: LesionAnalyzer;
let s3: LocalS3;
let store: FaultyStore;
let sample: Buffer;

beforeAll(async () => {
  analyzer = await createTestAnalyzer();
  sample = (await readSamples())[0]!.bytes;
});

afterAll(async () => {
  await analyzer.dispose();
});

beforeEach(async () => {
  s3 = await startLocalS3({ bucket: 'lesion-uploads' });
  store = new FaultyStore(new S3ObjectStore(s3.client));
});

afterEach(async () => {
  await s3.stop();
});

async function upload(key: string, body: Uint8Array): Promise<string> {
  await store.inner.put(s3.bucket, key, body, 'application/octet-stream');
  return s3NotificationBody(s3.bucket, key, { size: body.length });
}

/** The test model's analyzer whose every inference fails (a transient InferenceError). */
function brokenAnalyzer(): Promise<LesionAnalyzer> {
  const failing: LesionSession = {
    contract: analyzer.contract,
    provider: 'cpu',
    run: async () => {
      throw new InferenceError('onnxruntime run failed for uint8 [2,96,128,3]');
    },
    dispose: async () => undefined,
  };
  return LesionAnalyzer.create({ config: analyzer.config, session: failing });
}

/** Collects events; the next `failures` publishes fail like an EventBridge outage (retryable). */
class FailingPublisher implements EventPublisher {
  readonly events: CompletionEvent[] = [];
  constructor(public failures: number) {}
  async publish(event: CompletionEvent): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new MessagingError('EventBridge PutEvents failed');
    }
    this.events.push(event);
  }
}

/** Records what the adapters would log. */
function recordingObserver() {
  const seen = {
    outcomes: [] as [string, UploadOutcome][],
    retries: [] as [string, LesionError][],
    dropped: [] as [string, MessageError][],
  };
  const observer: BatchObserver = {
    onOutcome: (id, o) => seen.outcomes.push([id, o]),
    onRetry: (id, e) => seen.retries.push([id, e]),
    onDropped: (id, e) => seen.dropped.push([id, e]),
  };
  return { seen, observer };
}

describe('handleSqsEvent (the Lambda core) with a real SQSEvent', () => {
  it('reports a batch item failure only for the record with a transient failure', async () => {
    const good = sqsRecord(await upload('uploads/good.jpg', sample));
    const flaky = sqsRecord(await upload('uploads/flaky.jpg', sample));
    const bad = sqsRecord(await upload('uploads/bad.jpg', fixtures.text()));
    const malformed = sqsRecord('{"this is": "not an S3 event"}');
    // a key S3 would have sent as 'uploads/100%25.jpg': dropped on its own, not failing the batch
    const badlyEncoded = sqsRecord(
      s3NotificationBody(s3.bucket, 'uploads/placeholder.jpg').replace(
        'uploads/placeholder.jpg',
        'uploads/100%.jpg',
      ),
    );
    const foreign = sqsRecord(s3NotificationBody(s3.bucket, 'elsewhere/x.jpg'));
    store.fail({ op: 'get', match: (k) => k === 'uploads/flaky.jpg', error: faults.slowDown, times: 1 });
    const publisher = new MemoryPublisher();
    const { seen, observer } = recordingObserver();

    const response = await handleSqsEvent(
      sqsEvent([good, flaky, bad, malformed, badlyEncoded, foreign]),
      { analyzer, store, config: analyzer.config, publisher },
      observer,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: flaky.messageId }] });
    expect(seen.retries.map(([id, e]) => [id, e.code])).toEqual([
      [flaky.messageId, ErrorCode.STORAGE_UNAVAILABLE],
    ]);
    expect(seen.dropped.map(([id, e]) => [id, e.code])).toEqual([
      [malformed.messageId, ErrorCode.MALFORMED_MESSAGE],
      [badlyEncoded.messageId, ErrorCode.MALFORMED_MESSAGE],
    ]);
    expect(seen.outcomes.map(([id, o]) => [id, o.status])).toEqual([
      [good.messageId, 'ok'],
      [bad.messageId, 'error'],
      [foreign.messageId, 'ignored'],
    ]);

    // outputs: result for good, error.json for bad, nothing for flaky or the foreign key
    expect(await headOrNull(s3.client, s3.bucket, resultKeys('good.jpg', 'results/').result)).not.toBeNull();
    const error = await getJson<ErrorResult>(s3.client, s3.bucket, resultKeys('bad.jpg', 'results/').error);
    expect(errorSchemaErrors(error)).toEqual([]);
    expect(error.error).toMatchObject({ code: ErrorCode.UNSUPPORTED_FORMAT, retryable: false });
    const keys = (await listAll(s3.client, s3.bucket)).map((o) => o.key);
    expect(keys.filter((k) => k.startsWith('results/') && !/^results\/(good|bad)\.jpg\//.test(k))).toEqual(
      [],
    );
    expect(publisher.events.map((e) => e.detail.imageId).sort()).toEqual(['bad.jpg', 'good.jpg']);

    // the redelivered record succeeds (the fault was transient)
    const retry = await handleSqsEvent(sqsEvent([flaky]), {
      analyzer,
      store,
      config: analyzer.config,
      publisher,
    });
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(await headOrNull(s3.client, s3.bucket, resultKeys('flaky.jpg', 'results/').result)).not.toBeNull();
  });

  it('retries every record with a decodable image when inference fails, and still answers bad inputs', async () => {
    const broken = await brokenAnalyzer();
    const a = sqsRecord(await upload('uploads/a.jpg', sample));
    const b = sqsRecord(await upload('uploads/b.jpg', sample));
    const bad = sqsRecord(await upload('uploads/empty.jpg', Buffer.alloc(0)));

    const response = await handleSqsEvent(sqsEvent([a, bad, b]), {
      analyzer: broken,
      store,
      config: analyzer.config,
    });

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [a.messageId, b.messageId].sort(),
    );
    const keys = (await listAll(s3.client, s3.bucket))
      .map((o) => o.key)
      .filter((k) => k.startsWith('results/'));
    expect(keys).toEqual(['results/empty.jpg/error.json']);
  });

  /** An SQS record on its n-th delivery. */
  const delivery = (body: string, n: number) => {
    const r = sqsRecord(body);
    return { ...r, attributes: { ...r.attributes, ApproximateReceiveCount: String(n) } };
  };

  it("answers an upload on its message's last delivery (retryable error.json + Failed event), still dead-letters it, and a redrive completes it", async () => {
    // Arrange: inference fails (transient); a is on its 3rd and last delivery, b on its 2nd
    const broken = await brokenAnalyzer();
    const config = { ...analyzer.config, maxReceiveCount: 3 };
    const a = delivery(await upload('uploads/last.jpg', sample), 3);
    const b = delivery(await upload('uploads/second.jpg', sample), 2);
    const publisher = new FailingPublisher(0);
    const { seen, observer } = recordingObserver();

    // Act
    const response = await handleSqsEvent(
      sqsEvent([a, b]),
      { analyzer: broken, store, config, publisher },
      observer,
    );

    // Assert: both go back to the queue (a then to the dead-letter queue); only a is answered
    // (no upload of the batch got an outcome of its own: names the outcome if one did)
    expect(
      seen.outcomes.map(([, o]) => [o.ref.key, o.status, o.status === 'error' ? o.error.error.code : null]),
    ).toEqual([]);
    expect(seen.retries.map(([id, e]) => [id, e.code])).toEqual([
      [a.messageId, ErrorCode.INFERENCE_FAILED],
      [b.messageId, ErrorCode.INFERENCE_FAILED],
    ]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [a.messageId, b.messageId].sort(),
    );
    const keys = resultKeys('last.jpg', 'results/');
    const error = await getJson<ErrorResult>(s3.client, s3.bucket, keys.error);
    expect(errorSchemaErrors(error)).toEqual([]);
    expect(error.error).toMatchObject({ code: ErrorCode.INFERENCE_FAILED, retryable: true });
    expect(error.error.message).toMatch(/after 3 attempts because of a temporary problem on our side/);
    expect(error.error.message).not.toContain('onnxruntime'); // internals stay in the logs
    const head = (await headOrNull(s3.client, s3.bucket, keys.error))!;
    const upload1 = (await headOrNull(s3.client, s3.bucket, 'uploads/last.jpg'))!;
    expect(head.metadata).toMatchObject({ 'source-etag': upload1.eTag, 'lesion-gave-up': 'true' });
    expect(await headOrNull(s3.client, s3.bucket, resultKeys('second.jpg', 'results/').error)).toBeNull();
    expect(publisher.events.map((e) => [e.detailType, e.detail.imageId, e.detail.retryable])).toEqual([
      ['LesionAnalysisFailed', 'last.jpg', true],
    ]);

    // Act: an operator redrives the dead-lettered message; inference works again, but the
    // Completed publish fails once, so the message comes back once more
    publisher.failures = 1;
    const redrive = await handleSqsEvent(sqsEvent([delivery(a.body, 1)]), {
      analyzer,
      store,
      config,
      publisher,
    });
    const again = await handleSqsEvent(sqsEvent([delivery(a.body, 2)]), {
      analyzer,
      store,
      config,
      publisher,
    });

    // Assert: analysed again (not a duplicate of the gave-up error), and the Completed event is
    // sent on the redelivery (giving up left no marker that would pass for it)
    expect(redrive.batchItemFailures).toHaveLength(1);
    expect(again).toEqual({ batchItemFailures: [] });
    expect(await headOrNull(s3.client, s3.bucket, keys.result)).not.toBeNull();
    expect(publisher.events.map((e) => e.detailType)).toEqual([
      'LesionAnalysisFailed',
      'LesionAnalysisCompleted',
    ]);
    const [failed, completed] = publisher.events;
    expect(failed!.detail.eventId).not.toBe(completed!.detail.eventId);
  });

  it('does not overwrite an answer already stored for the upload when only its event kept failing', async () => {
    // Arrange: the analysis works, the Completed publish fails on every delivery
    const config = { ...analyzer.config, maxReceiveCount: 2 };
    const body = await upload('uploads/stored.jpg', sample);
    const publisher = new FailingPublisher(Infinity);
    const keys = resultKeys('stored.jpg', 'results/');

    // Act: the first and the last delivery
    await handleSqsEvent(sqsEvent([delivery(body, 1)]), { analyzer, store, config, publisher });
    const last = await handleSqsEvent(sqsEvent([delivery(body, 2)]), { analyzer, store, config, publisher });

    // Assert: dead-lettered with result.json standing, no gave-up error.json, nothing published;
    // a redrive (the bus working again) sends the owed Completed event
    expect(last.batchItemFailures).toHaveLength(1);
    expect(await headOrNull(s3.client, s3.bucket, keys.result)).not.toBeNull();
    expect(await headOrNull(s3.client, s3.bucket, keys.error)).toBeNull();
    expect(publisher.events).toEqual([]);
    publisher.failures = 0;
    expect(
      await handleSqsEvent(sqsEvent([delivery(body, 1)]), { analyzer, store, config, publisher }),
    ).toEqual({
      batchItemFailures: [],
    });
    expect(publisher.events.map((e) => e.detailType)).toEqual(['LesionAnalysisCompleted']);
  });

  it('lists a message whose two uploads both failed once in batchItemFailures', async () => {
    // one SQS message may hold several S3 records
    const body = JSON.stringify({
      Records: [
        ...JSON.parse(await upload('uploads/m1.jpg', sample)).Records,
        ...JSON.parse(await upload('uploads/m2.jpg', sample)).Records,
      ],
    });
    store.fail({ op: 'get', match: (k) => k.startsWith('uploads/m'), error: faults.internalError });
    const record = sqsRecord(body);
    const response = await handleSqsEvent(sqsEvent([record]), { analyzer, store, config: analyzer.config });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
  });
});
