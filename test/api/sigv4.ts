/**
 * Independent SigV4 check of a presigned S3 URL (query-string auth), as S3 does it on the PUT:
 * the signature only matches when the request carries the signed header values. Independent of
 * src/local/sigv4-verify.ts (which the local S3 endpoint uses), so the two check each other.
 */
import { createHash, createHmac } from 'node:crypto';

const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

export function presignedSignatureMatches(
  method: string,
  presignedUrl: string,
  headers: Record<string, string>,
  secretAccessKey: string,
): boolean {
  const url = new URL(presignedUrl);
  const q = url.searchParams;
  const signedHeaders = q.get('X-Amz-SignedHeaders')!.split(';');
  const all: Record<string, string> = {
    ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    host: url.host,
  };
  const canonicalQuery = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    method,
    url.pathname,
    canonicalQuery,
    signedHeaders.map((h) => `${h}:${(all[h] ?? '').trim()}\n`).join(''),
    signedHeaders.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const [, date, region, service, terminator] = q.get('X-Amz-Credential')!.split('/');
  const scope = `${date}/${region}/${service}/${terminator}`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    q.get('X-Amz-Date')!,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date!), region!), service!), terminator!);
  return hmac(key, stringToSign).toString('hex') === q.get('X-Amz-Signature');
}
