/**
 * Completion events exactly once per upload version, against a real S3-compatible server
 * (s3rver) and a stub analyzer (no model: the event logic does not depend on predictions).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config.js';
import { ErrorCode, InputError, MessagingError, StorageError, type LesionError } from '../../src/errors.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import type { LesionAnalysis, LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { UploadRef } from '../../src/service/events.js';
import { processUploads, type UploadOutcome } from '../../src/service/process-uploads.js';
import {
  eventMarkerKey,
  UPLOAD_ETAG_METADATA,
  type EventMarker,
  type EventPublisher,
} from '../../src/results/answer.js';
import { DetailType, type CompletionEvent } from '../../src/results/completion-event.js';
import { MemoryPublisher } from '../../src/service/publish.js';
import { resultKeys } from '../../src/results/keys.js';
import { S3ObjectStore, type ObjectStore } from '../../src/storage/s3.js';
import { MODEL, okResult } from '../helpers/result-fixtures.js';

/** Returns a canned analysis, or CORRUPT_IMAGE for bytes starting with "bad". */
const stubAnalyzer = {
  modelInfo: MODEL,
  async analyzeBatch(
    items: { bytes: Uint8Array; target: { id: string; bucket?: string | null; key?: string | null } }[],
  ) {
    return items.map(({ bytes, target }): LesionAnalysis | LesionError => {
      if (Buffer.from(bytes).toString('utf8').startsWith('bad')) {
        return new InputError(ErrorCode.CORRUPT_IMAGE, 'The upload could not be decoded as an image.');
      }
      const r = okResult(target.id);
      return {
        result: { ...r, image: { ...r.image, bucket: target.bucket ?? null, key: target.key ?? null } },
        maskPng: Buffer.from('mask'),
        overlayJpeg: Buffer.from('overlay'),
      };
    });
  },
} as unknown as LesionAnalyzer;

/** Fails the first `failures` publishes like EventBridge being unreachable. */
class FlakyPublisher implements EventPublisher {
  readonly attempted: CompletionEvent[] = [];
  readonly delivered: CompletionEvent[] = [];
  constructor(private failures: number) {}
  async publish(event: CompletionEvent): Promise<void> {
    this.attempted.push(event);
    if (this.failures > 0) {
      this.failures--;
      throw new MessagingError('EventBridge PutEvents to test-bus failed');
    }
    this.delivered.push(event);
  }
}

describe('completion events (exactly once per upload version)', () => {
  let s3: LocalS3;
  let store: S3ObjectStore;
  const config = loadConfig({});
  let n = 0;

  beforeAll(async () => {
    s3 = await startLocalS3();
    store = new S3ObjectStore(s3.client);
  });
  afterAll(() => s3.stop());

  /** Upload new bytes under a fresh key; returns the ref an S3 notification would carry. */
  async function upload(body = `image bytes ${n}`, key = `uploads/case-${++n}.jpg`): Promise<UploadRef> {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
    const head = await store.head(s3.bucket, key);
    return { bucket: s3.bucket, key, size: head!.size, uploadETag: head!.eTag };
  }

  const run = (ref: UploadRef, publisher?: EventPublisher, s: ObjectStore = store) =>
    processUploads([ref], { analyzer: stubAnalyzer, store: s, config, publisher }).then((r) => r[0]!);

  const keysOf = (ref: UploadRef) => resultKeys(ref.key.slice('uploads/'.length), 'results/');

  async function marker(ref: UploadRef): Promise<EventMarker | null> {
    const key = eventMarkerKey(keysOf(ref));
    if (!(await store.head(s3.bucket, key))) return null;
    return JSON.parse((await store.get(s3.bucket, key, 1e6)).toString('utf8')) as EventMarker;
  }

  it('publishes once and writes the marker after it; a redelivery is a duplicate', async () => {
    // Prepare
    const ref = await upload();
    const publisher = new MemoryPublisher();

    // Act
    const first = await run(ref, publisher);
    const again = await run(ref, publisher);

    // Assess
    expect(first).toMatchObject({ status: 'ok' });
    expect((first as UploadOutcome & { eventRecovered?: boolean }).eventRecovered).toBeUndefined();
    expect(again).toMatchObject({ status: 'duplicate' });
    expect(publisher.events).toHaveLength(1);
    const m = await marker(ref);
    expect(m?.event).toEqual(publisher.events[0]);
    expect((await store.head(s3.bucket, eventMarkerKey(keysOf(ref))))?.metadata[UPLOAD_ETAG_METADATA]).toBe(
      ref.uploadETag,
    );
    expect(publisher.events[0]!.detail).toMatchObject({
      imageId: ref.key.slice('uploads/'.length),
      uploadETag: ref.uploadETag,
      resultsBucket: s3.bucket,
    });
  });

  it('does not lose the event when publishing fails after result.json was written', async () => {
    // Prepare
    const ref = await upload();
    const publisher = new FlakyPublisher(1);

    // Act
    const first = await run(ref, publisher); // result written, publish fails: retry
    const resultAfterFirst = await store.head(s3.bucket, keysOf(ref).result);
    const markerAfterFirst = await marker(ref);
    const second = await run(ref, publisher); // redelivery: the owed event is sent
    const third = await run(ref, publisher); // and now it is a plain duplicate

    // Assess
    expect(first).toBeInstanceOf(MessagingError);
    expect(resultAfterFirst?.metadata[UPLOAD_ETAG_METADATA]).toBe(ref.uploadETag);
    expect(markerAfterFirst).toBeNull();
    expect(second).toMatchObject({ status: 'ok', eventRecovered: true });
    expect(third).toMatchObject({ status: 'duplicate' });
    expect(publisher.delivered).toHaveLength(1);
    const event = publisher.delivered[0]!;
    expect(event.detailType).toBe(DetailType.COMPLETED);
    expect(event.detail).toMatchObject({
      imageId: ref.key.slice('uploads/'.length),
      uploadETag: ref.uploadETag,
      resultKeys: { result: keysOf(ref).result, fhir: keysOf(ref).fhir },
      probabilities: { melanoma: 0.734512, seborrheicKeratosis: 0.041 },
    });
    expect((await marker(ref))?.event).toEqual(event);
    // the event rebuilt from result.json is the one the failed delivery tried to send
    expect(publisher.attempted).toHaveLength(2);
    expect(event).toEqual(publisher.attempted[0]);
  });

  it('does not lose the LesionAnalysisFailed event of an unreadable upload either', async () => {
    // Prepare
    const ref = await upload('bad bytes');
    const publisher = new FlakyPublisher(2);

    // Act
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await run(ref, publisher));

    // Assess
    expect(outcomes[0]).toBeInstanceOf(MessagingError);
    expect(outcomes[1]).toBeInstanceOf(MessagingError);
    expect(outcomes[2]).toMatchObject({
      status: 'error',
      eventRecovered: true,
      error: { error: { code: 'CORRUPT_IMAGE' } },
    });
    expect(outcomes[3]).toMatchObject({ status: 'duplicate' });
    expect(publisher.delivered.map((e) => [e.detailType, e.detail.errorCode])).toEqual([
      [DetailType.FAILED, 'CORRUPT_IMAGE'],
    ]);
  });

  it('announces a new upload version under the same key again, with a new eventId', async () => {
    // Prepare
    const publisher = new MemoryPublisher();
    const v1 = await upload('version 1', 'uploads/replaced.jpg');
    await run(v1, publisher);

    // Act
    const v2 = await upload('version 2', 'uploads/replaced.jpg');
    const outcome = await run(v2, publisher);

    // Assess
    expect(outcome).toMatchObject({ status: 'ok' });
    expect(publisher.events.map((e) => e.detail.uploadETag)).toEqual([v1.uploadETag, v2.uploadETag]);
    expect(publisher.events[0]!.detail.eventId).not.toBe(publisher.events[1]!.detail.eventId);
    expect((await marker(v2))?.event.detail.uploadETag).toBe(v2.uploadETag);
  });

  it('re-sends with the same eventId when the marker write fails after a successful publish', async () => {
    // Prepare: a store whose first event.json put fails
    const ref = await upload();
    const publisher = new MemoryPublisher();
    let failMarker = true;
    const flakyStore: ObjectStore = {
      head: (b, k) => store.head(b, k),
      get: (b, k, m) => store.get(b, k, m),
      async put(b, k, body, type, meta) {
        if (k.endsWith('/event.json') && failMarker) {
          failMarker = false;
          throw new StorageError(`S3 PutObject failed for s3://${b}/${k}`);
        }
        return store.put(b, k, body, type, meta);
      },
    };

    // Act
    const first = await run(ref, publisher, flakyStore);
    const second = await run(ref, publisher, flakyStore);

    // Assess: at-least-once at this one boundary, deduplicable by eventId
    expect(first).toBeInstanceOf(StorageError);
    expect(second).toMatchObject({ status: 'ok', eventRecovered: true });
    expect(publisher.events).toHaveLength(2);
    expect(publisher.events[0]!.detail.eventId).toBe(publisher.events[1]!.detail.eventId);
  });

  it('analyses again when the stored result.json of an unannounced result is unreadable', async () => {
    // Prepare
    const ref = await upload();
    await run(ref, new FlakyPublisher(1));
    await store.put(s3.bucket, keysOf(ref).result, '{ not json', 'application/json', {
      [UPLOAD_ETAG_METADATA]: ref.uploadETag!,
    });
    const publisher = new MemoryPublisher();

    // Act
    const outcome = await run(ref, publisher);

    // Assess
    expect(outcome).toMatchObject({ status: 'ok' });
    expect((outcome as { eventRecovered?: boolean }).eventRecovered).toBeUndefined();
    expect(publisher.events).toHaveLength(1);
    expect(JSON.parse((await store.get(s3.bucket, keysOf(ref).result, 1e6)).toString('utf8'))).toMatchObject({
      status: 'ok',
    });
  });

  it('writes no marker without a publisher, and treats a redelivery as a duplicate', async () => {
    // Prepare
    const ref = await upload();

    // Act
    const first = await run(ref);
    const again = await run(ref);

    // Assess
    expect(first).toMatchObject({ status: 'ok' });
    expect(again).toMatchObject({ status: 'duplicate' });
    expect(await marker(ref)).toBeNull();
  });
});
