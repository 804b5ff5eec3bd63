/**
 * SigV4 verification of S3 requests, as S3 makes it, for the local S3 endpoint
 * (src/local/s3-verify-proxy.ts): presigned URLs (query-string auth: signature, expiry, signed
 * headers such as content-type / content-length / x-amz-meta-owner) and header-signed SDK
 * requests (`Authorization: AWS4-HMAC-SHA256 …`). The payload hash is taken as signed
 * (`UNSIGNED-PAYLOAD` for presigned URLs, `x-amz-content-sha256` otherwise), not recomputed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_PRESIGN_SECONDS } from '../storage/s3-limits.js';

export interface SigV4Request {
  readonly method: string;
  /** Path and query exactly as received, e.g. `/bucket/uploads/a.jpg?X-Amz-Algorithm=…`. */
  readonly rawUrl: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type SigV4Failure =
  | 'AccessDenied'
  | 'SignatureDoesNotMatch'
  | 'InvalidAccessKeyId'
  | 'AuthorizationQueryParametersError'
  | 'RequestTimeTooSkewed';

export type SigV4Result =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly code: SigV4Failure; readonly message: string };

/** S3 accepts presigned URLs valid for at most 7 days, header-signed requests within 15 min. */
export const MAX_PRESIGN_EXPIRES_SECONDS = MAX_PRESIGN_SECONDS;
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** RFC 3986 encoding (SigV4's UriEncode): everything but A–Z a–z 0–9 - _ . ~ */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Query parameters as raw decoded pairs (`+` is a literal plus in S3 URLs, not a space). */
export function parseQuery(query: string): [string, string][] {
  if (query === '') return [];
  return query.split('&').map((part) => {
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    const v = i < 0 ? '' : part.slice(i + 1);
    return [decodeURIComponent(k), decodeURIComponent(v)];
  });
}

/** Sorted `k=v&…` of the encoded pairs, without X-Amz-Signature. */
export function canonicalQuery(pairs: readonly (readonly [string, string])[]): string {
  return pairs
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const headerValue = (v: string | string[] | undefined): string | undefined =>
  v === undefined ? undefined : (Array.isArray(v) ? v.join(',') : v).trim().replace(/\s+/g, ' ');

/** `name:value\n` for each signed header, or the first signed header that is missing. */
export function canonicalHeaders(
  signed: readonly string[],
  headers: SigV4Request['headers'],
): { ok: true; text: string } | { ok: false; missing: string } {
  let text = '';
  for (const h of signed) {
    const v = headerValue(headers[h]);
    if (v === undefined) return { ok: false, missing: h };
    text += `${h}:${v}\n`;
  }
  return { ok: true, text };
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** kSigning = HMAC chain over date, region, service, 'aws4_request'. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export function signature(
  secret: string,
  amzDate: string,
  scope: { date: string; region: string; service: string },
  canonicalRequest: string,
): string {
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${scope.date}/${scope.region}/${scope.service}/aws4_request`,
    sha256(canonicalRequest),
  ].join('\n');
  return hmac(signingKey(secret, scope.date, scope.region, scope.service), stringToSign).toString('hex');
}

/** `20130524T000000Z` → Date, or null. */
export function parseAmzDate(s: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, se!));
}

const fail = (code: SigV4Failure, message: string): SigV4Result => ({ ok: false, code, message });

const equalHex = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

interface Parts {
  readonly accessKeyId: string;
  readonly scope: { date: string; region: string; service: string };
  readonly amzDate: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  readonly payloadHash: string;
  readonly query: [string, string][];
}

function check(req: SigV4Request, p: Parts, secrets: ReadonlyMap<string, string>): SigV4Result {
  const secret = secrets.get(p.accessKeyId);
  if (secret === undefined)
    return fail('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (!p.signedHeaders.includes('host'))
    return fail('AuthorizationQueryParametersError', 'The host header must be signed.');
  const headers = canonicalHeaders(p.signedHeaders, req.headers);
  if (!headers.ok)
    return fail('SignatureDoesNotMatch', `The signed header ${headers.missing} is missing from the request.`);
  const path = req.rawUrl.split('?')[0] || '/';
  const canonicalRequest = [
    req.method.toUpperCase(),
    path,
    canonicalQuery(p.query),
    headers.text,
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
  const expected = signature(secret, p.amzDate, p.scope, canonicalRequest);
  if (!equalHex(expected, p.signature.toLowerCase()))
    return fail(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  return { ok: true, accessKeyId: p.accessKeyId };
}

function scopeOf(
  credential: string,
): { accessKeyId: string; date: string; region: string; service: string } | null {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return null;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return { accessKeyId, date, region, service };
}

/**
 * Verify a request with SigV4 query-string (presigned URL) or Authorization-header auth against
 * the known credentials (access key id → secret). Anonymous requests are AccessDenied.
 *
 * @example
 * verifySigV4({ method: 'PUT', rawUrl: req.url, headers: req.headers }, new Map([['S3RVER', 'S3RVER']]), new Date())
 */
export function verifySigV4(req: SigV4Request, secrets: ReadonlyMap<string, string>, now: Date): SigV4Result {
  const qi = req.rawUrl.indexOf('?');
  let query: [string, string][];
  try {
    query = parseQuery(qi < 0 ? '' : req.rawUrl.slice(qi + 1));
  } catch {
    return fail('AuthorizationQueryParametersError', 'The query string is not valid percent-encoding.');
  }
  const q = new Map(query);
  if (q.has('X-Amz-Signature')) {
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
      return fail('AuthorizationQueryParametersError', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256.');
    const scope = scopeOf(q.get('X-Amz-Credential') ?? '');
    const amzDate = q.get('X-Amz-Date') ?? '';
    const signedAt = parseAmzDate(amzDate);
    const expires = Number(q.get('X-Amz-Expires'));
    if (
      !scope ||
      !signedAt ||
      !Number.isInteger(expires) ||
      expires < 1 ||
      expires > MAX_PRESIGN_EXPIRES_SECONDS
    )
      return fail(
        'AuthorizationQueryParametersError',
        `X-Amz-Credential, X-Amz-Date and X-Amz-Expires (1..${MAX_PRESIGN_EXPIRES_SECONDS}) must be well-formed.`,
      );
    if (scope.date !== amzDate.slice(0, 8))
      return fail('AuthorizationQueryParametersError', 'The credential date does not match X-Amz-Date.');
    if (now.getTime() > signedAt.getTime() + expires * 1000)
      return fail('AccessDenied', 'Request has expired');
    if (signedAt.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS)
      return fail('AccessDenied', 'Request is not yet valid');
    return check(
      req,
      {
        accessKeyId: scope.accessKeyId,
        scope,
        amzDate,
        signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean),
        signature: q.get('X-Amz-Signature')!,
        payloadHash: 'UNSIGNED-PAYLOAD',
        query,
      },
      secrets,
    );
  }
  const auth = headerValue(req.headers.authorization);
  if (auth === undefined) return fail('AccessDenied', 'Anonymous access is not allowed.');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(auth);
  const scope = m ? scopeOf(m[1]!) : null;
  const amzDate = headerValue(req.headers['x-amz-date']) ?? '';
  const signedAt = parseAmzDate(amzDate);
  if (!m || !scope || !signedAt)
    return fail('AccessDenied', 'The Authorization header or X-Amz-Date is malformed.');
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS)
    return fail(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  return check(
    req,
    {
      accessKeyId: scope.accessKeyId,
      scope,
      amzDate,
      signedHeaders: m[2]!.split(';'),
      signature: m[3]!,
      payloadHash: headerValue(req.headers['x-amz-content-sha256']) ?? 'UNSIGNED-PAYLOAD',
      query,
    },
    secrets,
  );
}
