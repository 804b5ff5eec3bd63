/**
 * The upload API end to end over real HTTP (global fetch): LocalPipeline (s3rver + the batch
 * core + the model) with the local API server on 127.0.0.1. Model: LESION_TEST_MODEL or
 * models/lesion-mtl.onnx; with the random-weight smoke model only structure is asserted.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import sharp from 'sharp';
import { serveLocalPipeline, type LocalApi } from '../../src/local/api.js';
import type { AnalysisStatusResponse, CreateAnalysisResponse } from '../../src/api/types.js';
import { LocalPipeline } from '../../src/local/pipeline.js';
import { eventMarkerKey } from '../../src/results/answer.js';
import { DetailType } from '../../src/results/completion-event.js';
import { resultKeys } from '../../src/results/keys.js';
import { requireTestModel } from '../helpers/model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SAMPLE = path.join(ROOT, 'samples', 'ISIC_0012099.jpg');
const fhirSchema = JSON.parse(
  readFileSync(path.join(ROOT, 'schemas', 'fhir-diagnosticreport.subset.json'), 'utf8'),
);

describe('upload API end to end (local pipeline, real HTTP)', () => {
  let pipeline: LocalPipeline;
  let api: LocalApi;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({
      config: {
        modelPath: requireTestModel(),
        executionProvider: 'cpu',
        intraOpThreads: 1,
        eventBusName: '',
      },
    });
    api = await serveLocalPipeline(pipeline, { port: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await pipeline?.stop();
  });

  async function create(contentType: string, contentLength: number): Promise<CreateAnalysisResponse> {
    const res = await fetch(`${api.url}/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contentType, contentLength, fileName: 'lesion.jpg' }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as CreateAnalysisResponse;
  }

  async function poll(id: string, timeoutMs = 30_000): Promise<AnalysisStatusResponse> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const res = await fetch(`${api.url}/analyses/${id}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as AnalysisStatusResponse;
      if (body.status !== 'pending' || Date.now() > end) return body;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('binds to 127.0.0.1 only', () => {
    expect(new URL(api.url).hostname).toBe('127.0.0.1');
  });

  it('POST → PUT to the presigned URL → poll GET → mask, overlay and FHIR report via the links', async () => {
    // Prepare
    const bytes = await readFile(SAMPLE);
    const { width, height } = await sharp(bytes).metadata();

    // Act
    const created = await create('image/jpeg', bytes.length);
    const put = await fetch(created.upload.url, {
      method: created.upload.method,
      headers: created.upload.headers,
      body: bytes,
    });
    const done = await poll(created.id);

    // Assess
    expect(put.status).toBe(200);
    expect(new URL(created.upload.url).origin).toBe(pipeline.s3.endpoint);
    expect(created.uploadKey).toBe(`uploads/${created.id}.jpg`);
    expect(done).toMatchObject({
      id: created.id,
      status: 'completed',
      result: { status: 'ok', image: { id: `${created.id}.jpg` } },
    });
    const [mask, overlay, fhir] = await Promise.all([
      fetch(done.links!.mask),
      fetch(done.links!.overlay),
      fetch(done.links!.fhir),
    ]);
    expect([mask.status, overlay.status, fhir.status]).toEqual([200, 200, 200]);
    const maskMeta = await sharp(Buffer.from(await mask.arrayBuffer())).metadata();
    expect([maskMeta.format, maskMeta.width, maskMeta.height]).toEqual(['png', width, height]);
    expect(overlay.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await overlay.arrayBuffer())).metadata()).format).toBe('jpeg');
    const report = (await fhir.json()) as Record<string, unknown>;
    const validate = new Ajv2020({ allErrors: true, strictRequired: false }).compile(fhirSchema);
    expect(validate(report) ? [] : validate.errors).toEqual([]);
    expect(report).toMatchObject({ resourceType: 'DiagnosticReport', status: 'preliminary' });

    // exactly one completion event, and its marker
    const events = pipeline.publisher.events.filter((e) => e.detail.imageId === `${created.id}.jpg`);
    expect(events.map((e) => e.detailType)).toEqual([DetailType.COMPLETED]);
    const marker = eventMarkerKey(resultKeys(`${created.id}.jpg`, pipeline.config.resultsPrefix));
    expect(await pipeline.store.head(pipeline.bucket, marker)).not.toBeNull();
  });

  it('reports a failed analysis for an upload that is not an image', async () => {
    // Prepare
    const junk = Buffer.from('definitely not a PNG file');

    // Act
    const created = await create('image/png', junk.length);
    await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: junk });
    const done = await poll(created.id);

    // Assess
    expect(done.status).toBe('failed');
    expect(done.error?.code).toMatch(/^(UNSUPPORTED_FORMAT|CORRUPT_IMAGE)$/);
    expect(done.links).toBeUndefined();
  });

  it('answers 404 for an id nothing was uploaded for and 400 for a malformed id', async () => {
    // Act
    const created = await create('image/jpeg', 1000);
    const unknown = await fetch(`${api.url}/analyses/${created.id}`);
    const malformed = await fetch(`${api.url}/analyses/..%2Fresults`);

    // Assess
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('ANALYSIS_NOT_FOUND');
    expect(malformed.status).toBe(400);
  });

  it('answers 413 over HTTP for an image above the limit, before anything is uploaded', async () => {
    // Act
    const res = await fetch(`${api.url}/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contentType: 'image/jpeg', contentLength: pipeline.config.maxBytes + 1 }),
    });

    // Assess
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('IMAGE_TOO_LARGE');
  });
});
