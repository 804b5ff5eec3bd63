import { LocalPipeline } from '../../src/local/pipeline.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { AnalysisResult } from '../../src/results/result.js';
import { resultKeys } from '../../src/results/keys.js';
import { FaultyStore } from '../helpers/faults.js';
import { rawPng, readSamples } from '../helpers/images.js';
import { createTestAnalyzer } from '../helpers/model.js';
import {
  getBytes,
  getJson,
  headOrNull,
  listAll,
  resultsByImageId,
  type ListedObject,
} from '../helpers/s3.js';
import { resultSchemaErrors } from '../helpers/schema.js';
import sharp from 'sharp';

/** Written for every analysed upload. */
const REQUIRED = ['mask.png', 'overlay.jpg', 'report.fhir.json', 'result.json'];
/** Everything that may appear under results/<id>/ (event.json: the event-published marker). */
const ALLOWED = new Set([...REQUIRED, 'error.json', 'event.json']);

let analyzer: LesionAnalyzer;

beforeAll(async () => {
  analyzer = await createTestAnalyzer();
});

afterAll(async () => {
  await analyzer.dispose();
});

describe('LocalPipeline end to end (s3rver on 127.0.0.1, real model)', () => {
  let pipeline: LocalPipeline;
  let store: FaultyStore;
  let samples: { name: string; bytes: Buffer }[];
  /** Every S3 notification the server sent, in order. */
  const notifications: string[] = [];
  let before: ListedObject[];

  beforeAll(async () => {
    samples = await readSamples();
    pipeline = await LocalPipeline.start({
      analyzer,
      config: analyzer.config,
      wrapStore: (s) => (store = new FaultyStore(s)),
    });
    pipeline.s3.onObjectCreated((body) => notifications.push(body));
    for (const s of samples) await pipeline.upload(`uploads/${s.name}`, s.bytes, 'image/jpeg');
    expect(pipeline.pending).toBe(samples.length);
    await pipeline.drain();
    before = await listAll(pipeline.s3.client, pipeline.bucket);
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it('answers every upload with ok', () => {
    expect(pipeline.outcomes.map((o) => o.status)).toEqual(samples.map(() => 'ok'));
    expect(pipeline.deadLetters).toEqual([]);
  });

  it('writes mask.png, overlay.jpg, result.json and report.fhir.json under results/<id>/', async () => {
    const byId = resultsByImageId(
      before.map((o) => o.key),
      'results/',
    );
    expect([...byId.keys()].sort()).toEqual(samples.map((s) => s.name).sort());
    for (const names of byId.values()) {
      for (const n of REQUIRED) expect(names).toContain(n);
      for (const n of names) expect(ALLOWED.has(n)).toBe(true);
    }
  });

  it('writes a schema-valid result.json pointing at its mask, and a mask of the image size', async () => {
    for (const s of samples) {
      const keys = resultKeys(s.name, 'results/');
      const result = await getJson<AnalysisResult>(pipeline.s3.client, pipeline.bucket, keys.result);
      expect(resultSchemaErrors(result)).toEqual([]);
      expect(result.image).toMatchObject({
        id: s.name,
        bucket: pipeline.bucket,
        key: `uploads/${s.name}`,
        bytes: s.bytes.length,
      });
      expect(result.segmentation).toMatchObject({ maskKey: keys.mask, overlayKey: keys.overlay });
      const mask = await rawPng(await getBytes(pipeline.s3.client, pipeline.bucket, keys.mask));
      const { width, height } = await sharp(s.bytes).metadata();
      expect([mask.width, mask.height, mask.channels]).toEqual([width, height, 1]);
      const head = await headOrNull(pipeline.s3.client, pipeline.bucket, keys.result);
      expect(head?.contentType).toBe('application/json');
    }
  });

  it('writes result.json after every other output of the same upload', () => {
    for (const s of samples) {
      const keys = resultKeys(s.name, 'results/');
      const order = store.written().filter((k) => k.startsWith(keys.prefix));
      const at = order.indexOf(keys.result);
      expect(at).toBeGreaterThan(-1);
      for (const k of [keys.mask, keys.overlay, keys.fhir]) expect(order.indexOf(k)).toBeLessThan(at);
    }
  });

  it('leaves every upload in place and byte-identical', async () => {
    for (const s of samples) {
      expect((await getBytes(pipeline.s3.client, pipeline.bucket, `uploads/${s.name}`)).equals(s.bytes)).toBe(
        true,
      );
    }
    expect(store.calls.filter((c) => c.op === 'put' && c.key.startsWith('uploads/'))).toEqual([]);
  });

  it('writes nothing outside results/ (ListObjectsV2 of the whole bucket)', () => {
    const outside = before.filter((o) => !o.key.startsWith('results/')).map((o) => o.key);
    expect(outside.sort()).toEqual(samples.map((s) => `uploads/${s.name}`).sort());
  });

  it('does not queue notifications for its own outputs under results/', () => {
    // s3rver notified every put, outputs included; none of those reached the queue
    const forResults = notifications.filter((n) => n.includes('"key":"results/'));
    expect(forResults.length).toBeGreaterThanOrEqual(samples.length * REQUIRED.length);
    expect(pipeline.pending).toBe(0);
  });

  it('publishes exactly one completion event per upload', () => {
    const ids = pipeline.publisher.events.map((e) => e.detail.imageId).sort();
    expect(ids).toEqual(samples.map((s) => s.name).sort());
    expect(pipeline.publisher.events.every((e) => e.detailType === 'LesionAnalysisCompleted')).toBe(true);
  });

  it('answers a redelivered notification with duplicate and writes nothing', async () => {
    const captured = notifications.find((n) => n.includes(`"key":"uploads/${samples[0]!.name}"`))!;
    expect(captured).toBeDefined();
    const outcomes = pipeline.outcomes.length;
    const events = pipeline.publisher.events.length;
    const calls = store.calls.length;

    pipeline.enqueue(captured);
    await pipeline.drain();

    expect(pipeline.outcomes.slice(outcomes).map((o) => o.status)).toEqual(['duplicate']);
    expect(pipeline.publisher.events.length).toBe(events);
    expect(store.calls.slice(calls).filter((c) => c.op === 'put')).toEqual([]);
    const after = await listAll(pipeline.s3.client, pipeline.bucket);
    expect(after.map((o) => [o.key, o.eTag, o.lastModified])).toEqual(
      before.map((o) => [o.key, o.eTag, o.lastModified]),
    );
  });

  it('processes the same upload only once when its notification arrives twice in one batch', async () => {
    const bytes = samples[1]!.bytes;
    const key = 'uploads/twice/ISIC_twice.jpg';
    const events = pipeline.publisher.events.length;
    const bodies: string[] = [];
    pipeline.s3.onObjectCreated((b) => {
      if (b.includes(key)) bodies.push(b);
    });
    await pipeline.upload(key, bytes, 'image/jpeg');
    pipeline.enqueue(bodies[0]!); // the same notification again, before the first is processed
    expect(pipeline.pending).toBe(2);
    const outcomes = pipeline.outcomes.length;
    await pipeline.drain();
    expect(
      pipeline.outcomes
        .slice(outcomes)
        .map((o) => o.status)
        .sort(),
    ).toEqual(['duplicate', 'ok']);
    expect(pipeline.publisher.events.length - events).toBe(1);
  });
});
