import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { StorageError } from '../errors.js';
import { isNotFound } from '../storage/s3.js';

/** A stored JSON object with its user metadata (lower-case keys, as S3 returns them). */
export interface StoredJson {
  readonly body: unknown;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What the API needs from S3: presign, list one id's upload, read result JSON. */
export interface AnalysisStorage {
  /** Presigned PUT that only accepts this content type and exactly this many bytes. */
  presignUpload(o: {
    bucket: string;
    key: string;
    contentType: string;
    contentLength: number;
    expiresIn: number;
  }): Promise<string>;
  presignDownload(o: { bucket: string; key: string; expiresIn: number }): Promise<string>;
  /** Objects whose key starts with `prefix` (the first 20: one id has at most six), ETags without quotes. */
  list(bucket: string, prefix: string): Promise<{ key: string; eTag: string }[]>;
  /** Parsed JSON, or null when the object does not exist. */
  readJson(bucket: string, key: string, maxBytes: number): Promise<StoredJson | null>;
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

  async presignUpload(o: {
    bucket: string;
    key: string;
    contentType: string;
    contentLength: number;
    expiresIn: number;
  }): Promise<string> {
    const command = new PutObjectCommand({
      Bucket: o.bucket,
      Key: o.key,
      ContentType: o.contentType,
      ContentLength: o.contentLength,
    });
    try {
      return await getSignedUrl(this.client, command, {
        expiresIn: o.expiresIn,
        signableHeaders: new Set(SIGNED_UPLOAD_HEADERS),
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
