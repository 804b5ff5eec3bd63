/**
 * Issue 5, faults: injected only at the storage boundary (LocalPipeline's `wrapStore` over the
 * real S3ObjectStore + s3rver), at the EventBridge publisher, and inside a real S3Client's
 * middleware stack to prove how SDK errors are classified and retried.
 */
import { jest } from '@jest/globals';
import { ErrorCode, InputError, StorageError } from '../../src/errors.js';
import { LocalPipeline } from '../../src/local/pipeline.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { ErrorResult } from '../../src/results/result.js';
import { resultKeys } from '../../src/results/keys.js';
import { createS3Client, S3ObjectStore } from '../../src/storage/s3.js';
import { faults, FaultyStore, sdkError, storageFailure } from '../helpers/faults.js';
import { readSamples } from '../helpers/images.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { getBytes, getJson, listAll } from '../helpers/s3.js';

const REQUIRED = ['mask.png', 'overlay.jpg', 'report.fhir.json', 'result.json'];

let analyzer: LesionAnalyzer;
let pipeline: LocalPipeline;
let store: FaultyStore;
let sample: Buffer;
let n = 0;

beforeAll(async () => {
  analyzer = await createTestAnalyzer();
  sample = (await readSamples())[0]!.bytes;
  pipeline = await LocalPipeline.start({
    analyzer,
    config: analyzer.config,
    maxReceives: 3,
    wrapStore: (s) => (store = new FaultyStore(s)),
  });
});

afterAll(async () => {
  await pipeline.stop();
  await analyzer.dispose();
});

afterEach(() => {
  store.clear();
  jest.restoreAllMocks();
});

/** A fresh upload name per test. */
function freshKey(): { key: string; id: string } {
  const id = `fault-${++n}.jpg`;
  return { key: `uploads/${id}`, id };
}

/** Objects under results/<id>/ (names only). */
async function resultNames(id: string): Promise<string[]> {
  return (await listAll(pipeline.s3.client, pipeline.bucket, `results/${id}/`)).map((o) =>
    o.key.slice(`results/${id}/`.length),
  );
}

/** The last delivery gave up: error.json with the transient code, retryable, and the Failed event. */
async function expectAnsweredAsRetryable(id: string): Promise<void> {
  const answer = await getJson<ErrorResult>(
    pipeline.s3.client,
    pipeline.bucket,
    resultKeys(id, 'results/').error,
  );
  expect(answer.error).toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, retryable: true });
  expect(eventsFor(id).map((e) => e.detailType)).toEqual(['LesionAnalysisFailed']);
}

const eventsFor = (id: string) => pipeline.publisher.events.filter((e) => e.detail.imageId === id);
const getsOf = (key: string) => store.calls.filter((c) => c.op === 'get' && c.key === key).length;

describe('GetObject failures (StorageError, retryable)', () => {
  it.each([
    ['500 InternalError', faults.internalError],
    ['503 SlowDown throttling', faults.slowDown],
    ['socket timeout', faults.socketTimeout],
  ])(
    '%s every time → retried, then dead-lettered after maxReceives (3), the last delivery answering with a retryable error.json',
    async (_what, error) => {
      const { key, id } = freshKey();
      store.fail({ op: 'get', match: (k) => k === key, error });
      const deadLetters = pipeline.deadLetters.length;
      await pipeline.upload(key, sample, 'image/jpeg');
      await pipeline.drain();

      expect(getsOf(key)).toBe(3); // one read per receive
      expect(pipeline.deadLetters.slice(deadLetters).map((m) => m.body)).toEqual([
        expect.stringContaining(`"key":"${key}"`),
      ]);
      // the client is answered (not left pending): the transient code, marked retryable
      expect(await resultNames(id)).toEqual(['error.json']); // no event marker: see giveUp
      await expectAnsweredAsRetryable(id);
      expect((await getBytes(pipeline.s3.client, pipeline.bucket, key)).equals(sample)).toBe(true);
    },
  );

  it('a failure on the first attempt only → processed on redelivery, exactly one result set and one event', async () => {
    const { key, id } = freshKey();
    store.fail({ op: 'get', match: (k) => k === key, error: faults.slowDown, times: 1 });
    const deadLetters = pipeline.deadLetters.length;
    const outcomes = pipeline.outcomes.length;
    await pipeline.upload(key, sample, 'image/jpeg');
    await pipeline.drain();

    expect(getsOf(key)).toBe(2);
    expect(pipeline.deadLetters.length).toBe(deadLetters);
    expect(pipeline.outcomes.slice(outcomes).map((o) => o.status)).toEqual(['ok']);
    expect(await resultNames(id)).toEqual(expect.arrayContaining(REQUIRED));
    expect(store.written().filter((k) => k === resultKeys(id, 'results/').result)).toHaveLength(1);
    expect(eventsFor(id)).toHaveLength(1);
  });

  it('HeadObject 503 on the upload → retried like a failed read', async () => {
    const { key, id } = freshKey();
    store.fail({ op: 'head', match: (k) => k === key, error: faults.slowDown, times: 2 });
    await pipeline.upload(key, sample, 'image/jpeg');
    await pipeline.drain();
    expect(eventsFor(id)).toHaveLength(1);
    expect(await resultNames(id)).toEqual(expect.arrayContaining(REQUIRED));
  });
});

describe('PutObject failures', () => {
  it('mask.png cannot be written → no result.json ever exists (result.json is written last); answered as retryable, dead-lettered', async () => {
    const { key, id } = freshKey();
    store.fail({ op: 'put', match: (k) => k === `results/${id}/mask.png`, error: faults.internalError });
    const deadLetters = pipeline.deadLetters.length;
    await pipeline.upload(key, sample, 'image/jpeg');
    await pipeline.drain();

    expect(pipeline.deadLetters.length).toBe(deadLetters + 1);
    const names = await resultNames(id);
    expect(names).not.toContain('result.json');
    expect(store.calls.filter((c) => c.key === `results/${id}/result.json` && c.op === 'put')).toEqual([]);
    await expectAnsweredAsRetryable(id);
  });

  it('mask.png fails once → the redelivery completes the set, one event', async () => {
    const { key, id } = freshKey();
    store.fail({ op: 'put', match: (k) => k === `results/${id}/mask.png`, error: faults.slowDown, times: 1 });
    await pipeline.upload(key, sample, 'image/jpeg');
    await pipeline.drain();
    expect(await resultNames(id)).toEqual(expect.arrayContaining(REQUIRED));
    expect(eventsFor(id)).toHaveLength(1);
  });

  it('result.json fails once → no event for the failed attempt; one event after the redelivery', async () => {
    const { key, id } = freshKey();
    store.fail({
      op: 'put',
      match: (k) => k === `results/${id}/result.json`,
      error: faults.internalError,
      times: 1,
    });
    await pipeline.upload(key, sample, 'image/jpeg');
    await pipeline.drain();
    expect(
      store.calls.filter((c) => c.op === 'put' && c.key === `results/${id}/result.json`).map((c) => c.ok),
    ).toEqual([false, true]);
    expect(eventsFor(id)).toHaveLength(1);
  });
});

describe('EventBridge publish failure', () => {
  it('the event of a stored result is still sent, once, on redelivery', async () => {
    const { key, id } = freshKey();
    const publish = pipeline.publisher.publish.bind(pipeline.publisher);
    let failures = 0;
    jest.spyOn(pipeline.publisher, 'publish').mockImplementation(async (event) => {
      if (event.detail.imageId === id && failures++ === 0)
        throw new StorageError('EventBridge PutEvents to bus failed');
      return publish(event);
    });
    await pipeline.upload(key, sample, 'image/jpeg');
    await pipeline.drain();
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(eventsFor(id)).toHaveLength(1);
    expect(await resultNames(id)).toEqual(expect.arrayContaining(REQUIRED));
  });
});

describe('S3ObjectStore over a real S3Client with faults in its middleware stack', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await startLocalS3({ bucket: 'sdk-faults' });
    await new S3ObjectStore(s3.client).put(s3.bucket, 'uploads/a.jpg', sample, 'image/jpeg');
  });

  afterAll(async () => {
    await s3.stop();
  });

  /**
   * The pipeline's client (createS3Client: adaptive retries, maxAttempts 4) against s3rver, with a
   * middleware inside the retry loop that fails the first `failures` attempts with `error()`.
   */
  function faultyClient(error: () => Error, failures = Infinity) {
    const client = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const attempts = { count: 0 };
    client.middlewareStack.add(
      (next) => async (args) => {
        attempts.count++;
        if (attempts.count <= failures) throw error();
        return next(args);
      },
      { step: 'deserialize', name: 'faultInjection', priority: 'high' },
    );
    return { store: new S3ObjectStore(client), client, attempts };
  }

  /** The error `promise` rejects with. */
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e as Error & { cause?: Error },
    );

  it.each([
    ['SlowDown (503)', () => sdkError('SlowDown', 503)],
    ['InternalError (500)', () => sdkError('InternalError', 500)],
    [
      'a socket timeout',
      () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }),
    ],
  ])(
    'GetObject failing with %s: the SDK tries 4 times, then StorageError (retryable)',
    async (_what, error) => {
      const { store, client, attempts } = faultyClient(error);
      const e = await rejection(store.get(s3.bucket, 'uploads/a.jpg', 1e6));
      expect(e).toBeInstanceOf(StorageError);
      expect(e).toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, retryable: true });
      expect(e.message).toBe(`S3 GetObject failed for s3://${s3.bucket}/uploads/a.jpg`);
      expect(e.cause?.name).toBe(error().name);
      expect(attempts.count).toBe(4);
      client.destroy();
    },
    30_000,
  );

  it('recovers inside the SDK when throttling stops before the last attempt', async () => {
    const { store, client, attempts } = faultyClient(() => sdkError('SlowDown', 503), 2);
    expect((await store.get(s3.bucket, 'uploads/a.jpg', 1e6)).equals(sample)).toBe(true);
    expect(attempts.count).toBe(3);
    client.destroy();
  }, 30_000);

  it("NoSuchKey (s3rver's real 404 for a missing key) is not retried and becomes OBJECT_NOT_FOUND (permanent)", async () => {
    const { store, client, attempts } = faultyClient(() => new Error('no fault injected'), 0);
    const e = await rejection(store.get(s3.bucket, 'uploads/missing.jpg', 1e6));
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({ code: ErrorCode.OBJECT_NOT_FOUND, retryable: false });
    expect(attempts.count).toBe(1);
    client.destroy();
  });

  it('GetObject of an object above maxBytes → TOO_LARGE (an upload grown since its HeadObject)', async () => {
    const { store, client } = faultyClient(() => new Error('no fault injected'), 0);
    const e = await rejection(store.get(s3.bucket, 'uploads/a.jpg', sample.length - 1));
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({ code: ErrorCode.TOO_LARGE, retryable: false });
    expect((await store.get(s3.bucket, 'uploads/a.jpg', sample.length)).equals(sample)).toBe(true);
    client.destroy();
  });

  it('AccessDenied (403) is not retried by the SDK; it surfaces as StorageError for the queue to retry', async () => {
    const { store, client, attempts } = faultyClient(() => sdkError('AccessDenied', 403));
    const e = await rejection(store.get(s3.bucket, 'uploads/a.jpg', 1e6));
    expect(e).toBeInstanceOf(StorageError);
    expect(attempts.count).toBe(1);
    client.destroy();
  });

  it('HeadObject: 404 → null (a real missing object), 503 ServiceUnavailable → StorageError after 4 attempts', async () => {
    const missing = faultyClient(() => new Error('no fault injected'), 0);
    expect(await missing.store.head(s3.bucket, 'uploads/missing.jpg')).toBeNull();
    expect(missing.attempts.count).toBe(1);
    missing.client.destroy();
    const throttled = faultyClient(() => sdkError('ServiceUnavailable', 503));
    expect(await rejection(throttled.store.head(s3.bucket, 'uploads/a.jpg'))).toBeInstanceOf(StorageError);
    expect(throttled.attempts.count).toBe(4);
    throttled.client.destroy();
  }, 30_000);

  it('PutObject 500 → StorageError after 4 attempts', async () => {
    const { store, client, attempts } = faultyClient(() => sdkError('InternalError', 500));
    const e = await rejection(store.put(s3.bucket, 'results/x/result.json', '{}', 'application/json'));
    expect(e).toBeInstanceOf(StorageError);
    expect(e.message).toBe(`S3 PutObject failed for s3://${s3.bucket}/results/x/result.json`);
    expect(attempts.count).toBe(4);
    client.destroy();
  }, 30_000);

  it('the faults injected at the store boundary match what S3ObjectStore really throws', async () => {
    const { store, client } = faultyClient(() => sdkError('InternalError', 500));
    const real = await rejection(store.get(s3.bucket, 'uploads/a.jpg', 1e6));
    const injected = storageFailure(sdkError('InternalError', 500))('get', s3.bucket, 'uploads/a.jpg');
    expect([injected.name, (injected as StorageError).code, injected.message]).toEqual([
      real.name,
      (real as StorageError).code,
      real.message,
    ]);
    client.destroy();
  }, 30_000);
});
