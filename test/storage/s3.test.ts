/**
 * S3ObjectStore over a real S3Client (createS3Client) against s3rver, with faults injected inside
 * the SDK's middleware stack: how S3 errors are classified (StorageError / InputError) and retried,
 * and that the store-boundary faults the pipeline tests inject match what it really throws.
 */
import { ErrorCode, InputError, StorageError } from '../../src/errors.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import { createS3Client, S3ObjectStore } from '../../src/storage/s3.js';
import { sdkError, storageFailure } from '../helpers/faults.js';
import { readSamples } from '../helpers/images.js';

let sample: Buffer;

beforeAll(async () => {
  sample = (await readSamples())[0]!.bytes;
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
