/**
 * Issue 5, faults: injected only at the storage boundary (LocalPipeline's `wrapStore` over the
 * real S3ObjectStore + s3rver) and at the EventBridge publisher. How S3ObjectStore classifies and
 * retries real SDK errors: test/storage/s3.test.ts.
 */
import { jest } from '@jest/globals';
import { ErrorCode, MessagingError } from '../../src/errors.js';
import { LocalPipeline } from '../../src/local/pipeline.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { ErrorResult } from '../../src/results/result.js';
import { resultKeys } from '../../src/results/keys.js';
import { faults, FaultyStore } from '../helpers/faults.js';
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
        throw new MessagingError('EventBridge PutEvents to bus failed');
      return publish(event);
    });
    await pipeline.upload(key, sample, 'image/jpeg');
    await pipeline.drain();
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(eventsFor(id)).toHaveLength(1);
    expect(await resultNames(id)).toEqual(expect.arrayContaining(REQUIRED));
  });
});
