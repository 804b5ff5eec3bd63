import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { StorageError } from '../errors.js';
import { isNotFound } from '../storage/s3.js';

/** A stored JSON object with its user metadata (lower-case keys, as S3 returns them). */
export interface StoredJson {
  readonly body: unknown;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What the API needs from S3: presign, list an analysis id's upload, read result JSON. */
export interface AnalysisStorage {
  /**
   * Presigned PUT that only accepts this content type, exactly this many bytes and exactly this
   * user metadata (signed headers `x-amz-meta-<name>` the client must send).
   */
  presignUpload(o: PresignUpload): Promise<string>;
  presignDownload(o: { bucket: string; key: string; expiresIn: number }): Promise<string>;
  /** Objects whose key starts with `prefix` (the first 20: an image id's folder holds at most six), ETags without quotes. */
  list(bucket: string, prefix: string): Promise<{ key: string; eTag: string }[]>;
  /** Parsed JSON, or null when the object does not exist. */
  readJson(bucket: string, key: string, maxBytes: number): Promise<StoredJson | null>;
  /** User metadata of an object (lower-case keys), or null when it does not exist. */
  metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>> | null>;
}

export interface PresignUpload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly contentLength: number;
  readonly expiresIn: number;
  /** User metadata bound into the signature (names without `x-amz-meta-`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The presigned PUT signs these headers: S3 rejects the upload when either differs. */
export const SIGNED_UPLOAD_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-length']);

/**
 * AnalysisStorage over an S3 client. Create the client with `createS3Client()`: its
 * `requestChecksumCalculation: 'WHEN_REQUIRED'` keeps checksum parameters out of presigned URLs
 * (a browser PUT could not supply them).
 *
 * @example
 * const storage = new S3AnalysisStorage(createS3Client());
 */
export class S3AnalysisStorage implements AnalysisStorage {
  constructor(readonly client: S3Client) {}

  async presignUpload(o: PresignUpload): Promise<string> {
    const metadata = o.metadata ?? {};
    const command = new PutObjectCommand({
      Bucket: o.bucket,
      Key: o.key,
      ContentType: o.contentType,
      ContentLength: o.contentLength,
      ...(Object.keys(metadata).length > 0 ? { Metadata: { ...metadata } } : {}),
    });
    // metadata stays a signed header (not hoisted into the query): S3 then refuses a PUT
    // without it or with another value, whatever the client does with the URL
    const metaHeaders = Object.keys(metadata).map((k) => `x-amz-meta-${k.toLowerCase()}`);
    try {
      return await getSignedUrl(this.client, command, {
        expiresIn: o.expiresIn,
        signableHeaders: new Set([...SIGNED_UPLOAD_HEADERS, ...metaHeaders]),
        unhoistableHeaders: new Set(metaHeaders),
      });
    } catch (cause) {
      throw new StorageError(`presigning PUT s3://${o.bucket}/${o.key} failed`, { cause });
    }
  }

  async presignDownload(o: { bucket: string; key: string; expiresIn: number }): Promise<string> {
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: o.bucket, Key: o.key }), {
        expiresIn: o.expiresIn,
      });
    } catch (cause) {
      throw new StorageError(`presigning GET s3://${o.bucket}/${o.key} failed`, { cause });
    }
  }

  async list(bucket: string, prefix: string): Promise<{ key: string; eTag: string }[]> {
    try {
      const r = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 20 }),
      );
      return (r.Contents ?? []).map((c) => ({ key: c.Key ?? '', eTag: (c.ETag ?? '').replace(/"/g, '') }));
    } catch (cause) {
      throw new StorageError(`S3 ListObjectsV2 failed for s3://${bucket}/${prefix}`, { cause });
    }
  }

  async metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>> | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return r.Metadata ?? {};
    } catch (e) {
      if (isNotFound(e)) return null;
      throw new StorageError(`S3 HeadObject failed for s3://${bucket}/${key}`, { cause: e });
    }
  }

  async readJson(bucket: string, key: string, maxBytes: number): Promise<StoredJson | null> {
    let text: string;
    let metadata: Record<string, string>;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((r.ContentLength ?? 0) > maxBytes) {
        throw new StorageError(`s3://${bucket}/${key} is ${r.ContentLength} bytes, above ${maxBytes}`);
      }
      text = await r.Body!.transformToString('utf8');
      metadata = r.Metadata ?? {};
    } catch (e) {
      if (isNotFound(e)) return null;
      if (e instanceof StorageError) throw e;
      throw new StorageError(`S3 GetObject failed for s3://${bucket}/${key}`, { cause: e });
    }
    try {
      return { body: JSON.parse(text), metadata };
    } catch (cause) {
      throw new StorageError(`s3://${bucket}/${key} is not valid JSON`, { cause });
    }
  }
}
