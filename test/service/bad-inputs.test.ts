/**
 * Issue 5: every bad upload gets an error.json with a typed code and a clear message, the upload
 * is left untouched, the message is not retried, and the next message is processed normally.
 * Real s3rver, real model, LocalPipeline (one message per batch, so "next" is a separate call).
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ErrorCode } from '../../src/errors.js';
import { LocalPipeline } from '../../src/local/pipeline.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { ErrorResult } from '../../src/results/result.js';
import { imageIdFromKey, resultKeys } from '../../src/results/keys.js';
import { FaultyStore } from '../helpers/faults.js';
import { fixtures, readSamples } from '../helpers/images.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { getBytes, getJson, headOrNull, listAll } from '../helpers/s3.js';
import { errorSchemaErrors, resultSchemaErrors } from '../helpers/schema.js';

const MAX_BYTES = 2 * 1024 * 1024;

let analyzer: LesionAnalyzer;
let pipeline: LocalPipeline;
let store: FaultyStore;
let good: Buffer;
let n = 0;

beforeAll(async () => {
  analyzer = await createTestAnalyzer();
  good = (await readSamples())[0]!.bytes;
  pipeline = await LocalPipeline.start({
    analyzer,
    config: { ...analyzer.config, maxBytes: MAX_BYTES },
    batchSize: 1,
    wrapStore: (s) => (store = new FaultyStore(s)),
  });
});

afterAll(async () => {
  await pipeline.stop();
  await analyzer.dispose();
});

/**
 * Upload `bytes` as `key`, then a good photo after it; drain. Returns the outcomes of this call
 * and the store calls it made.
 */
async function uploadThenGood(key: string, bytes: Uint8Array) {
  const goodKey = `uploads/next-${++n}.jpg`;
  const outcomes = pipeline.outcomes.length;
  const calls = store.calls.length;
  await pipeline.upload(key, bytes);
  await pipeline.upload(goodKey, good, 'image/jpeg');
  expect(pipeline.pending).toBe(2);
  await pipeline.drain();
  return { goodKey, outcomes: pipeline.outcomes.slice(outcomes), calls: store.calls.slice(calls) };
}

/** The checks every bad input must pass. */
async function expectRejected(
  key: string,
  bytes: Uint8Array,
  code: ErrorCode,
  message: RegExp,
): Promise<ErrorResult> {
  const deadLetters = pipeline.deadLetters.length;
  const { goodKey, outcomes, calls } = await uploadThenGood(key, bytes);
  const id = imageIdFromKey(key, 'uploads/');

  // error.json with the typed code and a message a person can act on
  expect(outcomes.map((o) => o.status)).toEqual(['error', 'ok']);
  const keys = resultKeys(id, 'results/');
  const error = await getJson<ErrorResult>(pipeline.s3.client, pipeline.bucket, keys.error);
  expect(errorSchemaErrors(error)).toEqual([]);
  expect(error.error.code).toBe(code);
  expect(error.error.message).toMatch(message);
  expect(error.error.retryable).toBe(false);
  expect(error.image).toMatchObject({ id, bucket: pipeline.bucket, key });
  expect(error.model?.sha256).toBe(analyzer.contract.sha256);
  // no partial analysis next to it
  for (const k of [keys.result, keys.mask, keys.overlay, keys.fhir])
    expect(await headOrNull(pipeline.s3.client, pipeline.bucket, k)).toBeNull();

  // not retried: looked up once and read at most once (a retry would repeat both), nothing
  // dead-lettered, nothing left in the queue
  expect(calls.filter((c) => c.op === 'head' && c.key === key).length).toBe(1);
  expect(calls.filter((c) => c.op === 'get' && c.key === key).length).toBeLessThanOrEqual(1);
  expect(pipeline.deadLetters.length).toBe(deadLetters);
  expect(pipeline.pending).toBe(0);

  // the upload is untouched; the next message was processed normally
  expect((await getBytes(pipeline.s3.client, pipeline.bucket, key)).equals(Buffer.from(bytes))).toBe(true);
  expect(calls.filter((c) => c.op === 'put' && !c.key.startsWith('results/'))).toEqual([]);
  const next = await getJson(
    pipeline.s3.client,
    pipeline.bucket,
    resultKeys(imageIdFromKey(goodKey, 'uploads/'), 'results/').result,
  );
  expect(resultSchemaErrors(next)).toEqual([]);
  return error;
}

describe('bad uploads → error.json, never retried, the next message processed', () => {
  it('zero-byte object → EMPTY_OBJECT (without downloading it)', async () => {
    await expectRejected('uploads/empty.jpg', Buffer.alloc(0), ErrorCode.EMPTY_OBJECT, /empty \(0 bytes\)/);
    expect(store.calls.filter((c) => c.op === 'get' && c.key === 'uploads/empty.jpg')).toEqual([]);
  });

  it.each([
    ['text', 'uploads/notes.jpg', fixtures.text],
    ['PDF', 'uploads/report.jpg', fixtures.pdf],
    ['ZIP', 'uploads/archive.jpg', fixtures.zip],
  ])('%s named .jpg → UNSUPPORTED_FORMAT', async (_what, key, make) => {
    await expectRejected(key, make(), ErrorCode.UNSUPPORTED_FORMAT, /not an image format we can read/);
  });

  it('truncated JPEG → CORRUPT_IMAGE', async () => {
    await expectRejected(
      'uploads/truncated.jpg',
      await fixtures.truncatedJpeg(0.6),
      ErrorCode.CORRUPT_IMAGE,
      /JPEG file is damaged or truncated/,
    );
  });

  it('JPEG cut inside its header → CORRUPT_IMAGE (not UNSUPPORTED_FORMAT)', async () => {
    await expectRejected(
      'uploads/cut.jpg',
      await fixtures.jpegHeaderOnly(),
      ErrorCode.CORRUPT_IMAGE,
      /JPEG file is damaged/,
    );
  });

  it('PNG with a broken CRC (one flipped byte inside IDAT) → CORRUPT_IMAGE', async () => {
    await expectRejected(
      'uploads/crc.png',
      await fixtures.brokenCrcPng(),
      ErrorCode.CORRUPT_IMAGE,
      /PNG file is damaged/,
    );
  });

  it('decompression bomb (115 kB PNG declaring 30000x30000) → TOO_LARGE without decoding it', async () => {
    const bomb = fixtures.decompressionBombPng();
    expect(bomb.length).toBeLessThan(200_000);
    await expectRejected(
      'uploads/bomb.png',
      bomb,
      ErrorCode.TOO_LARGE,
      /30000x30000 \(900\.0 MP\), above the 60 MP limit/,
    );
  });

  it('object above maxBytes → TOO_LARGE from its size, before any download', async () => {
    const big = Buffer.concat([await fixtures.jpeg(), Buffer.alloc(MAX_BYTES)]);
    await expectRejected('uploads/huge.jpg', big, ErrorCode.TOO_LARGE, /above the 2\.0 MB limit/);
    expect(store.calls.filter((c) => c.op === 'get' && c.key === 'uploads/huge.jpg')).toEqual([]);
  });

  it('1x1 image → TOO_SMALL', async () => {
    await expectRejected(
      'uploads/dot.png',
      await fixtures.tinyPng(),
      ErrorCode.TOO_SMALL,
      /1x1; the shorter side must be at least 32 pixels/,
    );
  });

  it('20:1 panorama → UNSUPPORTED_ASPECT_RATIO', async () => {
    await expectRejected(
      'uploads/pano.png',
      await fixtures.panoramaPng(),
      ErrorCode.UNSUPPORTED_ASPECT_RATIO,
      /2000x100 \(20\.0:1\)/,
    );
  });

  it.each([
    ['animated GIF', 'uploads/anim.gif', fixtures.animatedGif],
    ['animated WebP', 'uploads/anim.webp', fixtures.animatedWebp],
  ])('%s → UNSUPPORTED_FORMAT', async (_what, key, make) => {
    await expectRejected(
      key,
      await make(),
      ErrorCode.UNSUPPORTED_FORMAT,
      /3 frames \(animated or multi-page\)/,
    );
  });

  it('HEIC (HEVC, which this sharp build cannot decode) → UNSUPPORTED_FORMAT asking for a JPEG', async () => {
    await expectRejected(
      'uploads/iphone.heic',
      fixtures.heicContainer(),
      ErrorCode.UNSUPPORTED_FORMAT,
      /HEIC.*export the photo as JPEG/,
    );
  });

  it('object deleted before processing → OBJECT_NOT_FOUND', async () => {
    const key = 'uploads/deleted.jpg';
    const outcomes = pipeline.outcomes.length;
    await pipeline.upload(key, good, 'image/jpeg');
    await pipeline.s3.client.send(new DeleteObjectCommand({ Bucket: pipeline.bucket, Key: key }));
    await pipeline.drain();
    expect(pipeline.outcomes.slice(outcomes).map((o) => o.status)).toEqual(['error']);
    const error = await getJson<ErrorResult>(
      pipeline.s3.client,
      pipeline.bucket,
      resultKeys('deleted.jpg', 'results/').error,
    );
    expect(errorSchemaErrors(error)).toEqual([]);
    expect(error.error).toMatchObject({
      code: ErrorCode.OBJECT_NOT_FOUND,
      message: `The upload s3://${pipeline.bucket}/${key} no longer exists.`,
    });
    expect(error.image.bytes).toBeNull();
    expect(pipeline.deadLetters).toEqual([]);
  });

  it('a redelivered bad upload is a duplicate: error.json is not rewritten', async () => {
    const key = 'uploads/notes-again.jpg';
    const bodies: string[] = [];
    pipeline.s3.onObjectCreated((b) => b.includes(key) && bodies.push(b));
    await expectRejected(key, fixtures.text(), ErrorCode.UNSUPPORTED_FORMAT, /not an image/);
    const puts = store.calls.length;
    const outcomes = pipeline.outcomes.length;
    pipeline.enqueue(bodies[0]!);
    await pipeline.drain();
    expect(pipeline.outcomes.slice(outcomes).map((o) => o.status)).toEqual(['duplicate']);
    expect(store.calls.slice(puts).filter((c) => c.op === 'put')).toEqual([]);
  });
});

describe('unusual but valid uploads → ok results', () => {
  it.each([
    ['16-bit PNG', 'uploads/deep.png', fixtures.png16, 'depth ushort -> 8-bit'],
    ['CMYK JPEG', 'uploads/print.jpg', fixtures.cmykJpeg, 'colourspace cmyk -> srgb'],
    ['greyscale PNG', 'uploads/grey.png', fixtures.greyscalePng, 'colourspace b-w -> srgb'],
    ['RGBA PNG', 'uploads/alpha.png', fixtures.rgbaPng, 'alpha flattened on black'],
  ])('%s → ok, with the conversion recorded', async (_what, key, make, conversion) => {
    const { outcomes } = await uploadThenGood(key, await make());
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    const result = await getJson<{ image: { conversions: string[] } }>(
      pipeline.s3.client,
      pipeline.bucket,
      resultKeys(imageIdFromKey(key, 'uploads/'), 'results/').result,
    );
    expect(resultSchemaErrors(result)).toEqual([]);
    expect(result.image.conversions).toContain(conversion);
  });

  it("keys with spaces, unicode and '../' are processed under a sanitised id, nothing outside results/", async () => {
    const keys = [
      'uploads/clinic 7/Patiënt Müller.jpg',
      'uploads/../../escape.jpg',
      'uploads/a/../../../etc/passwd.jpg',
      'uploads/日本/写真 1.jpg',
    ];
    const outcomes = pipeline.outcomes.length;
    for (const k of keys) await pipeline.upload(k, good, 'image/jpeg');
    await pipeline.drain();
    const done = pipeline.outcomes.slice(outcomes);
    expect(done.map((o) => o.status)).toEqual(keys.map(() => 'ok'));
    for (const o of done) {
      if (o.status !== 'ok') continue;
      expect(o.keys.prefix).toMatch(/^results\/[A-Za-z0-9._/-]+~[0-9a-f]{10}\/$/);
      expect(o.keys.prefix.split('/')).not.toContain('..');
      expect(o.result.image.key).toBe(o.ref.key); // the original key is kept in the result
    }
    const all = (await listAll(pipeline.s3.client, pipeline.bucket)).map((o) => o.key);
    for (const k of all) {
      expect(k.startsWith('results/') || k.startsWith('uploads/')).toBe(true);
      if (k.startsWith('results/')) expect(k.split('/')).not.toContain('..');
    }
  });
});

describe('malformed queue messages', () => {
  it.each([
    ['not JSON', 'this is not json'],
    ['JSON without Records', '{"message":"hello"}'],
    [
      'a record without a key',
      '{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}',
    ],
  ])('%s → dropped: not retried, nothing written; the next message processed', async (_what, body) => {
    const before = (await listAll(pipeline.s3.client, pipeline.bucket)).length;
    const deadLetters = pipeline.deadLetters.length;
    const outcomes = pipeline.outcomes.length;
    const puts = store.written().length;
    pipeline.enqueue(body);
    await pipeline.drain();
    expect(pipeline.outcomes.length).toBe(outcomes);
    expect(pipeline.deadLetters.length).toBe(deadLetters);
    expect(store.written().length).toBe(puts);
    expect((await listAll(pipeline.s3.client, pipeline.bucket)).length).toBe(before);

    const { outcomes: next } = await uploadThenGood(`uploads/after-malformed-${n}.jpg`, good);
    expect(next.map((o) => o.status)).toEqual(['ok', 'ok']);
  });
});
