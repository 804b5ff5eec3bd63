/** handleApiRequest against a real S3-compatible server (s3rver): validation, presigning, status. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { apiConfigFrom } from '../../src/api/config.js';
import { handleApiRequest, type ApiDeps } from '../../src/api/handler.js';
import { OWNER_METADATA, ownerTag } from '../../src/api/owner.js';
import { S3AnalysisStorage, type AnalysisStorage } from '../../src/api/storage.js';
import type { ApiRequest } from '../../src/api/types.js';
import { loadConfig } from '../../src/config.js';
import { StorageError } from '../../src/errors.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import { UPLOAD_ETAG_METADATA } from '../../src/results/answer.js';
import { errorResult, okResult } from '../helpers/result-fixtures.js';
import { presignedSignatureMatches } from './sigv4.js';

const ID = '0b7d3f0e-5c1a-4a8e-9d2f-6a1e2b3c4d5e';
const NOW = new Date('2026-11-26T05:00:00.000Z');
const CALLER = 'iam:arn:aws:iam::123456789012:user/alice';
const OWNER = ownerTag(CALLER);

describe('handleApiRequest', () => {
  let s3: LocalS3;
  let deps: ApiDeps;

  beforeAll(async () => {
    s3 = await startLocalS3();
    deps = {
      storage: new S3AnalysisStorage(s3.client),
      config: apiConfigFrom(loadConfig({}, { maxBytes: 1_000_000 }), s3.bucket),
      newAnalysisId: () => ID,
      now: () => NOW,
    };
  });
  afterAll(() => s3.stop());

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    caller: string | null = CALLER,
  ) => {
    const req: ApiRequest = {
      method,
      path,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
      caller,
    };
    const res = await handleApiRequest(req, deps);
    return {
      ...res,
      json: JSON.parse(res.body) as Record<string, unknown> & { error?: { code: string; message: string } },
    };
  };

  async function put(key: string, body: string, metadata: Record<string, string> = {}) {
    const r = await s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, Metadata: metadata }),
    );
    return r.ETag!.replace(/"/g, '');
  }

  /** An upload as the presigned PUT of `caller` stores it: with its owner tag. */
  const upload = (key: string, body: string, caller = CALLER) =>
    put(key, body, { [OWNER_METADATA]: ownerTag(caller) });

  describe('POST /analyses', () => {
    it('returns 201 with an id, the upload key and a presigned PUT signed for type and length', async () => {
      // Act
      const res = await call('POST', '/analyses', {
        contentType: 'image/jpeg',
        contentLength: 4321,
        fileName: 'x.jpg',
      });

      // Assess
      expect(res.statusCode).toBe(201);
      expect(res.headers).toMatchObject({ location: `/analyses/${ID}`, 'cache-control': 'no-store' });
      expect(res.json).toMatchObject({
        id: ID,
        uploadKey: `uploads/${ID}.jpg`,
        upload: {
          method: 'PUT',
          headers: { 'Content-Type': 'image/jpeg', 'x-amz-meta-owner': OWNER },
          expiresAt: '2026-11-26T05:15:00.000Z',
        },
      });
      const url = new URL((res.json.upload as { url: string }).url);
      expect(`${url.protocol}//${url.host}`).toBe(s3.endpoint);
      expect(url.pathname).toBe(`/${s3.bucket}/uploads/${ID}.jpg`);
      expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual([
        'content-length',
        'content-type',
        'host',
        'x-amz-meta-owner',
      ]);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
      // no checksum parameters a browser could not supply
      expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    });

    it('signs content type and length: a PUT with another size or type would not match the signature', async () => {
      // Act
      const res = await call('POST', '/analyses', { contentType: 'image/png', contentLength: 100 });

      // Assess: an independent SigV4 computation (test/api/sigv4.ts); the local S3 endpoint makes
      // the same check on real PUTs (test/local/s3-verify-proxy.test.ts)
      const url = (res.json.upload as { url: string }).url;
      const matches = (headers: Record<string, string>) =>
        presignedSignatureMatches('PUT', url, headers, 'S3RVER');
      expect(res.json.uploadKey).toBe(`uploads/${ID}.png`);
      const good = { 'content-type': 'image/png', 'content-length': '100', 'x-amz-meta-owner': OWNER };
      expect(matches(good)).toBe(true);
      expect(matches({ ...good, 'content-length': '101' })).toBe(false);
      expect(matches({ ...good, 'content-type': 'image/jpeg' })).toBe(false);
      // the owner is bound too: the uploader cannot claim the analysis for someone else, or drop it
      expect(
        matches({ ...good, 'x-amz-meta-owner': ownerTag('iam:arn:aws:iam::123456789012:user/bob') }),
      ).toBe(false);
      expect(matches({ 'content-type': 'image/png', 'content-length': '100' })).toBe(false);
    });

    it('answers 413 with the limit for an image above maxBytes', async () => {
      // Act
      const res = await call('POST', '/analyses', { contentType: 'image/jpeg', contentLength: 2_000_000 });

      // Assess
      expect(res.statusCode).toBe(413);
      expect(res.json.error).toEqual({
        code: 'IMAGE_TOO_LARGE',
        message: 'The image is 1.9 MB (2000000 bytes), above the 1.0 MB (1000000 bytes) limit.',
      });
    });

    it('answers 415 for an image type the pipeline cannot read, listing the accepted ones', async () => {
      // Act
      const res = await call('POST', '/analyses', { contentType: 'image/heic', contentLength: 10 });

      // Assess
      expect(res.statusCode).toBe(415);
      expect(res.json.error?.code).toBe('UNSUPPORTED_IMAGE_TYPE');
      expect(res.json.error?.message).toContain('image/jpeg, image/png, image/webp, image/tiff, image/avif');
    });

    it('answers 415 for a request body that is not JSON by its content type', async () => {
      // Act
      const res = await call('POST', '/analyses', 'contentType=image/jpeg', {
        'content-type': 'application/x-www-form-urlencoded',
      });

      // Assess
      expect(res.statusCode).toBe(415);
      expect(res.json.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 400 listing every problem of an invalid body', async () => {
      // Act
      const res = await call('POST', '/analyses', {
        contentType: '',
        contentLength: 1.5,
        fileName: 7,
        extra: true,
      });

      // Assess
      expect(res.statusCode).toBe(400);
      expect(res.json.error).toEqual({
        code: 'INVALID_REQUEST',
        message:
          'Invalid request: unknown field(s): extra; contentType must be a non-empty string; contentLength must be a ' +
          'positive integer (the exact size of the image in bytes); fileName must be a string of at most 255 characters ' +
          'without control characters.',
      });
    });

    it.each([
      ['not JSON', '{', 'INVALID_JSON'],
      ['an array', '[]', 'INVALID_REQUEST'],
      ['empty', '', 'INVALID_REQUEST'],
    ])('answers 400 for a body that is %s', async (_what, body, code) => {
      // Act
      const res = await call('POST', '/analyses', body);

      // Assess
      expect(res.statusCode).toBe(400);
      expect(res.json.error?.code).toBe(code);
    });
  });

  describe('GET /analyses/{id}', () => {
    // every test its own analysis, so each one sets up all it reads (any order, or alone)
    let id: string;
    beforeEach(() => {
      id = randomUUID();
    });

    it('answers 404 for a well-formed id with no upload', async () => {
      // Act
      const res = await call('GET', `/analyses/${id}`);

      // Assess
      expect(res.statusCode).toBe(404);
      expect(res.json.error?.code).toBe('ANALYSIS_NOT_FOUND');
    });

    it.each(['not-a-uuid', '..%2F..%2Fresults', `${ID}.jpg`, `${ID}x`])(
      'answers 400 for the malformed id %s',
      async (bad) => {
        // Act
        const res = await call('GET', `/analyses/${bad}`);

        // Assess
        expect(res.statusCode).toBe(400);
        expect(res.json.error?.code).toBe('INVALID_ID');
      },
    );

    it('answers 404, exactly as for no upload, to a caller other than the one who created it', async () => {
      // Prepare: alice's upload with a completed result
      const eTag = await upload(`uploads/${id}.jpg`, 'image');
      await put(`results/${id}.jpg/result.json`, JSON.stringify(okResult(`${id}.jpg`)), {
        [UPLOAD_ETAG_METADATA]: eTag,
      });

      // Act
      const owner = await call('GET', `/analyses/${id}`);
      const other = await call(
        'GET',
        `/analyses/${id}`,
        undefined,
        {},
        'iam:arn:aws:iam::123456789012:user/bob',
      );
      const none = await call(
        'GET',
        `/analyses/${randomUUID()}`,
        undefined,
        {},
        'iam:arn:aws:iam::123456789012:user/bob',
      );

      // Assess
      expect(owner.json.status).toBe('completed');
      expect(other.statusCode).toBe(404);
      expect(other.json.error).toEqual({
        ...none.json.error,
        message: none.json.error!.message.replace(/analysis [0-9a-f-]+/, `analysis ${id}`),
      });
    });

    it('answers 404 for an upload without an owner tag (fail closed)', async () => {
      // Prepare
      await put(`uploads/${id}.jpg`, 'image');

      // Act
      const res = await call('GET', `/analyses/${id}`);

      // Assess
      expect(res.statusCode).toBe(404);
    });

    it('is pending (with Retry-After) while the upload has no result', async () => {
      // Prepare
      await upload(`uploads/${id}.jpg`, 'image');

      // Act
      const res = await call('GET', `/analyses/${id.toUpperCase()}`);

      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.json).toEqual({ id, status: 'pending' });
      expect(res.headers['retry-after']).toBe('2');
    });

    it('reads only result objects that exist (a GET of a missing key is a 403 under least privilege)', async () => {
      // Prepare
      await upload(`uploads/${id}.jpg`, 'image');
      const reads: string[] = [];
      const storage = deps.storage;
      const recording: AnalysisStorage = {
        presignUpload: (o) => storage.presignUpload(o),
        presignDownload: (o) => storage.presignDownload(o),
        list: (b, p) => storage.list(b, p),
        metadata: (b, k) => storage.metadata(b, k),
        readJson: (b, k, m) => {
          reads.push(k);
          return storage.readJson(b, k, m);
        },
      };

      // Act
      const res = await handleApiRequest(
        { method: 'GET', path: `/analyses/${id}`, headers: {}, body: null, caller: CALLER },
        { ...deps, storage: recording },
      );

      // Assess
      expect(JSON.parse(res.body).status).toBe('pending');
      expect(reads).toEqual([]);
    });

    it('is completed with the result and presigned links once result.json of this upload version exists', async () => {
      // Prepare
      const eTag = await upload(`uploads/${id}.jpg`, 'image v2');
      await put(`results/${id}.jpg/result.json`, JSON.stringify(okResult(`${id}.jpg`)), {
        [UPLOAD_ETAG_METADATA]: eTag,
      });

      // Act
      const res = await call('GET', `/analyses/${id}`);

      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.json).toMatchObject({
        id,
        status: 'completed',
        result: { status: 'ok', image: { id: `${id}.jpg` } },
      });
      const links = res.json.links as Record<string, string>;
      expect(Object.keys(links)).toEqual(['mask', 'overlay', 'fhir']);
      expect(new URL(links.fhir!).pathname).toBe(`/${s3.bucket}/results/${id}.jpg/report.fhir.json`);
      expect(new URL(links.mask!).searchParams.get('X-Amz-Expires')).toBe('300');
      expect(res.json.linksExpireAt).toBe('2026-11-26T05:05:00.000Z');
    });

    it('is pending again when the upload was replaced after its result was written', async () => {
      // Prepare: result.json belongs to the previous upload version
      const eTag = await upload(`uploads/${id}.jpg`, 'image v2');
      await put(`results/${id}.jpg/result.json`, JSON.stringify(okResult(`${id}.jpg`)), {
        [UPLOAD_ETAG_METADATA]: eTag,
      });
      await upload(`uploads/${id}.jpg`, 'image v3');

      // Act
      const res = await call('GET', `/analyses/${id}`);

      // Assess
      expect(res.json.status).toBe('pending');
    });

    it('is failed with the error code and message when error.json of this upload version exists', async () => {
      // Prepare
      const failedId = 'c3d4e5f6-0000-4000-8000-00000000000b';
      const eTag = await upload(`uploads/${failedId}.png`, 'not an image');
      await put(`results/${failedId}.png/error.json`, JSON.stringify(errorResult(`${failedId}.png`)), {
        [UPLOAD_ETAG_METADATA]: eTag,
      });

      // Act
      const res = await call('GET', `/analyses/${failedId}`);

      // Assess
      expect(res.json).toEqual({
        id: failedId,
        status: 'failed',
        error: {
          code: 'CORRUPT_IMAGE',
          message: 'The upload could not be decoded as an image.',
          retryable: false,
        },
      });
    });
  });

  describe('GET /analyses/{id}/report', () => {
    const fhirSchema = JSON.parse(
      readFileSync(new URL('../../schemas/fhir-diagnosticreport.subset.json', import.meta.url), 'utf8'),
    );
    const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(
      fhirSchema,
    );

    it('gives the FHIR report with fetchable presigned media URLs, their expiry and issued', async () => {
      // Prepare
      const id = randomUUID();
      const eTag = await upload(`uploads/${id}.jpg`, 'image');
      await put(`results/${id}.jpg/result.json`, JSON.stringify(okResult(`${id}.jpg`)), {
        [UPLOAD_ETAG_METADATA]: eTag,
      });

      // Act
      const res = await call('GET', `/analyses/${id}/report`);

      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      expect(res.json).toMatchObject({ resourceType: 'DiagnosticReport', issued: NOW.toISOString() });
      const media = (
        res.json.contained as { resourceType: string; content?: { url: string; title: string } }[]
      )
        .filter((r) => r.resourceType === 'Media')
        .map((r) => r.content!);
      expect(media).toHaveLength(2);
      for (const m of media) {
        const url = new URL(m.url);
        expect(`${url.protocol}//${url.host}`).toBe(s3.endpoint);
        expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
        expect(m.title).toContain('link valid until 2026-11-26T05:05:00.000Z');
      }
      expect(validate(res.json)).toBe(true);
      // the link works
      expect((await fetch(media[0]!.url)).status).toBe(404); // no mask stored in this test: S3's answer, not 403
    });

    it('answers 409 while pending, and 404 to another caller', async () => {
      // Prepare
      const id = randomUUID();
      await upload(`uploads/${id}.jpg`, 'image');

      // Act
      const pending = await call('GET', `/analyses/${id}/report`);
      const other = await call(
        'GET',
        `/analyses/${id}/report`,
        undefined,
        {},
        'jwt:https://idp.example.org bob',
      );

      // Assess
      expect([pending.statusCode, pending.json.error?.code]).toEqual([409, 'ANALYSIS_NOT_COMPLETED']);
      expect([other.statusCode, other.json.error?.code]).toEqual([404, 'ANALYSIS_NOT_FOUND']);
    });
  });

  describe('routing and failures', () => {
    it.each([
      ['GET', '/analyses', 405, 'POST'],
      ['DELETE', `/analyses/${ID}`, 405, 'GET'],
      ['GET', '/', 404, undefined],
      ['GET', `/analyses/${ID}/mask`, 404, undefined],
    ])('%s %s answers %i', async (method, path, status, allow) => {
      // Act
      const res = await call(method, path);

      // Assess
      expect(res.statusCode).toBe(status);
      expect(res.headers.allow).toBe(allow);
      expect(res.json.error?.code).toBe(status === 405 ? 'METHOD_NOT_ALLOWED' : 'ROUTE_NOT_FOUND');
    });

    it.each([
      ['POST', '/analyses'],
      ['GET', `/analyses/${ID}`],
    ])('answers 401 to %s %s without an authenticated caller', async (method, path) => {
      // Act
      const res = await call(method, path, { contentType: 'image/jpeg', contentLength: 10 }, {}, null);

      // Assess
      expect(res.statusCode).toBe(401);
      expect(res.json.error?.code).toBe('UNAUTHENTICATED');
    });

    it('answers 503 for a storage outage and 500 for a bug, reporting both causes to onError', async () => {
      // Prepare
      const seen: unknown[] = [];
      const failing = (e: Error): AnalysisStorage => ({
        presignUpload: () => Promise.reject(e),
        presignDownload: () => Promise.reject(e),
        list: () => Promise.reject(e),
        metadata: () => Promise.reject(e),
        readJson: () => Promise.reject(e),
      });
      const get = (storage: AnalysisStorage) =>
        handleApiRequest(
          { method: 'GET', path: `/analyses/${ID}`, headers: {}, body: null, caller: CALLER },
          { ...deps, storage, onError: (e) => seen.push(e) },
        );

      // Act
      const outage = await get(failing(new StorageError('S3 ListObjectsV2 failed')));
      const bug = await get(failing(new TypeError('x is undefined')));

      // Assess
      expect([outage.statusCode, JSON.parse(outage.body).error.code, outage.headers['retry-after']]).toEqual([
        503,
        'SERVICE_UNAVAILABLE',
        '1',
      ]);
      expect([bug.statusCode, JSON.parse(bug.body)]).toEqual([
        500,
        { error: { code: 'INTERNAL', message: 'Internal error.' } },
      ]);
      expect(seen).toHaveLength(2);
    });
  });
});
