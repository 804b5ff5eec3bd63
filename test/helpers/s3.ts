/** Reading the local S3 server back in tests: list, get, head, compare. */
import { GetObjectCommand, HeadObjectCommand, ListObjectsCommand, type S3Client } from '@aws-sdk/client-s3';

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  readonly lastModified: number;
}

/** Every object in the bucket (all pages), sorted by key. */
export async function listAll(client: S3Client, bucket: string, prefix?: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  // ListObjects (v1) with Marker: s3rver 3.7 answers 500 to ListObjectsV2 continuation tokens
  let marker: string | undefined;
  do {
    const r = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
    for (const o of r.Contents ?? []) {
      out.push({
        key: o.Key!,
        size: o.Size ?? 0,
        eTag: (o.ETag ?? '').replace(/"/g, ''),
        lastModified: o.LastModified?.getTime() ?? 0,
      });
    }
    marker = r.IsTruncated ? (r.NextMarker ?? r.Contents?.at(-1)?.Key) : undefined;
  } while (marker);
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

export async function getJson<T = Record<string, unknown>>(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<T> {
  return JSON.parse((await getBytes(client, bucket, key)).toString('utf8')) as T;
}

/** HeadObject, or null when the object does not exist. */
export async function headOrNull(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{
  eTag: string;
  lastModified: number;
  metadata: Record<string, string>;
  contentType: string | null;
} | null> {
  try {
    const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      eTag: (r.ETag ?? '').replace(/"/g, ''),
      lastModified: r.LastModified?.getTime() ?? 0,
      metadata: r.Metadata ?? {},
      contentType: r.ContentType ?? null,
    };
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
    throw e;
  }
}

/** Keys of `listAll` grouped by the result id (results/<id>/<name> → id → names). */
export function resultsByImageId(keys: readonly string[], resultsPrefix: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of keys) {
    if (!k.startsWith(resultsPrefix)) continue;
    const rest = k.slice(resultsPrefix.length);
    const slash = rest.lastIndexOf('/');
    const id = rest.slice(0, slash);
    out.set(id, [...(out.get(id) ?? []), rest.slice(slash + 1)].sort());
  }
  return out;
}
