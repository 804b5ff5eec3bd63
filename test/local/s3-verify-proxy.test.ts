/**
 * The local S3 endpoint verifies SigV4 as S3 does: a presigned PUT is accepted only as signed
 * (key, method, content type, length, owner metadata, before expiry, known credentials);
 * everything else gets S3's 403 and nothing is stored.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { S3AnalysisStorage } from '../../src/api/storage.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import {
  canonicalQuery,
  parseQuery,
  signingKey,
  uriEncode,
  verifySigV4,
} from '../../src/local/sigv4-verify.js';
import { createS3Client } from '../../src/storage/s3.js';
import { listAll } from '../helpers/s3.js';

describe('verifySigV4 (pure)', () => {
  // AWS's published example of a presigned GET (S3 API reference, "Authenticating Requests:
  // Using Query Parameters"): examplebucket/test.txt, 2013-05-24, 86400 s.
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const secrets = new Map([['AKIAIOSFODNN7EXAMPLE', SECRET]]);
  const rawUrl =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const headers = { host: 'examplebucket.s3.amazonaws.com' };
  const at = (iso: string) => new Date(iso);

  it("accepts AWS's example within its validity and refuses it after", () => {
    expect(verifySigV4({ method: 'GET', rawUrl, headers }, secrets, at('2013-05-24T12:00:00Z'))).toEqual({
      ok: true,
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    });
    expect(
      verifySigV4({ method: 'GET', rawUrl, headers }, secrets, at('2013-05-25T00:00:01Z')),
    ).toMatchObject({
      ok: false,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it.each([
    ['another method', { method: 'PUT', rawUrl, headers }],
    ['another key', { method: 'GET', rawUrl: rawUrl.replace('/test.txt', '/other.txt'), headers }],
    ['another host', { method: 'GET', rawUrl, headers: { host: 'otherbucket.s3.amazonaws.com' } }],
    ['a changed signature', { method: 'GET', rawUrl: rawUrl.replace(/d404$/, 'd405'), headers }],
    [
      'a longer validity',
      { method: 'GET', rawUrl: rawUrl.replace('Expires=86400', 'Expires=86401'), headers },
    ],
  ])('refuses %s with SignatureDoesNotMatch', (_name, req) => {
    expect(verifySigV4(req, secrets, at('2013-05-24T12:00:00Z'))).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('refuses an unknown access key, a wrong secret and an anonymous request', () => {
    const now = at('2013-05-24T12:00:00Z');
    expect(verifySigV4({ method: 'GET', rawUrl, headers }, new Map([['OTHER', SECRET]]), now)).toMatchObject({
      code: 'InvalidAccessKeyId',
    });
    expect(
      verifySigV4({ method: 'GET', rawUrl, headers }, new Map([['AKIAIOSFODNN7EXAMPLE', 'x']]), now),
    ).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(verifySigV4({ method: 'GET', rawUrl: '/test.txt', headers }, secrets, now)).toMatchObject({
      code: 'AccessDenied',
    });
  });

  it('encodes and sorts the canonical query as SigV4 specifies', () => {
    expect(uriEncode("a b/c~d*e'")).toBe('a%20b%2Fc~d%2Ae%27');
    expect(parseQuery('b=2&a=x%2Fy&c')).toEqual([
      ['b', '2'],
      ['a', 'x/y'],
      ['c', ''],
    ]);
    expect(
      canonicalQuery([
        ['b', '2'],
        ['a', 'x/y'],
        ['X-Amz-Signature', 'z'],
        ['c', ''],
      ]),
    ).toBe('a=x%2Fy&b=2&c=');
  });

  it('derives the signing key of the SigV4 documentation example', () => {
    // docs.aws.amazon.com "Examples of how to derive a signing key for Signature Version 4"
    expect(
      signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex'),
    ).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });
});

describe('local S3 endpoint (verifying proxy in front of s3rver)', () => {
  let s3: LocalS3;
  let storage: S3AnalysisStorage;
  const KEY = 'uploads/11111111-2222-4333-8444-555555555555.jpg';
  const OWNER = 'a'.repeat(64);
  const BODY = Buffer.from('0123456789');
  const GOOD = { 'content-type': 'image/jpeg', 'x-amz-meta-owner': OWNER };

  beforeAll(async () => {
    s3 = await startLocalS3();
    storage = new S3AnalysisStorage(s3.client);
  });
  afterAll(() => s3.stop());

  const presign = (o: { key?: string; expiresIn?: number } = {}) =>
    storage.presignUpload({
      bucket: s3.bucket,
      key: o.key ?? KEY,
      contentType: 'image/jpeg',
      contentLength: BODY.length,
      expiresIn: o.expiresIn ?? 60,
      metadata: { owner: OWNER },
    });
  const put = async (url: string, headers: Record<string, string>, body: Buffer = BODY) => {
    const res = await fetch(url, { method: 'PUT', headers, body });
    return { status: res.status, text: await res.text() };
  };
  const stored = async () => (await listAll(s3.client, s3.bucket, 'uploads/')).map((o) => o.key);

  it('answers 200 and stores the upload for the PUT exactly as presigned, with its owner', async () => {
    // Act
    const res = await put(await presign({ key: 'uploads/good.jpg' }), GOOD);

    // Assess
    expect(res.status).toBe(200);
    expect(await storage.metadata(s3.bucket, 'uploads/good.jpg')).toEqual({ owner: OWNER });
  });

  it.each([
    ['a wrong content type', (u: string) => put(u, { ...GOOD, 'content-type': 'image/png' })],
    ['a wrong length', (u: string) => put(u, GOOD, Buffer.from('01234567890'))],
    ['no owner metadata', (u: string) => put(u, { 'content-type': 'image/jpeg' })],
    ['another owner', (u: string) => put(u, { ...GOOD, 'x-amz-meta-owner': 'b'.repeat(64) })],
    [
      'a tampered signature',
      (u: string) =>
        put(
          u.replace(
            /X-Amz-Signature=([0-9a-f])/,
            (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
          ),
          GOOD,
        ),
    ],
    ['another key', (u: string) => put(u.replace(KEY, 'uploads/other.jpg'), GOOD)],
    ['a longer validity', (u: string) => put(u.replace('X-Amz-Expires=60', 'X-Amz-Expires=600'), GOOD)],
    ['no signature at all', (u: string) => put(u.split('?')[0]!, GOOD)],
  ])('answers 403 to a presigned PUT with %s and stores nothing', async (_name, send) => {
    // Act
    const res = await send(await presign());

    // Assess
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/<Code>(SignatureDoesNotMatch|AccessDenied)<\/Code>/);
    expect(await stored()).not.toContain(KEY);
    expect(await stored()).not.toContain('uploads/other.jpg');
  });

  it('passes a CORS preflight (OPTIONS, never signed) through to the S3 server', async () => {
    // Act
    const res = await fetch(`${s3.endpoint}/${s3.bucket}/${KEY}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.org', 'access-control-request-method': 'PUT' },
    });

    // Assess: s3rver's own answer (no CORS rule configured), not the proxy's signature refusal
    expect(await res.text()).not.toMatch(/SignatureDoesNotMatch|Anonymous access/);
  });

  it('answers 403 to an expired presigned PUT', async () => {
    // Prepare: signed an hour ago for 60 s
    const url = await getSignedUrl(
      s3.client,
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: KEY,
        ContentType: 'image/jpeg',
        ContentLength: BODY.length,
      }),
      {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 3_600_000),
        signableHeaders: new Set(['content-type']),
      },
    );

    // Act
    const res = await put(url, { 'content-type': 'image/jpeg' });

    // Assess
    expect(res.status).toBe(403);
    expect(res.text).toContain('Request has expired');
    expect(await stored()).not.toContain(KEY);
  });

  it('answers 403 to requests signed with other credentials', async () => {
    // Prepare
    const other = (accessKeyId: string, secretAccessKey: string) =>
      createS3Client({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        maxAttempts: 1,
      });
    const wrongSecret = other('S3RVER', 'not-the-secret');
    const unknownKey = other('AKIDUNKNOWN', 'S3RVER');

    // Act
    const send = (c: ReturnType<typeof other>) =>
      c.send(new PutObjectCommand({ Bucket: s3.bucket, Key: KEY, Body: 'x' })).then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );

    // Assess
    expect(await send(wrongSecret)).toBe(403);
    expect(await send(unknownKey)).toBe(403);
    expect(await stored()).not.toContain(KEY);
    wrongSecret.destroy();
    unknownKey.destroy();
  });
});
