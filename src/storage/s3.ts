import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ErrorCode, InputError, objectTooLarge, StorageError } from '../errors.js';

export interface ObjectHead {
  readonly size: number;
  readonly eTag: string;
  readonly contentType: string | null;
  readonly metadata: Record<string, string>;
}

/** The storage the pipeline needs: read an upload, write results. Never delete, never overwrite uploads. */
export interface ObjectStore {
  head(bucket: string, key: string): Promise<ObjectHead | null>;
  get(bucket: string, key: string, maxBytes: number): Promise<Buffer>;
  put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void>;
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** An S3 "no such object" answer (GetObject NoSuchKey, HeadObject's bare 404). */
export function isNotFound(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(e) === 404;
}

/** Client defaults for the pipeline: adaptive retries with backoff for throttling and 5xx. */
export function createS3Client(overrides: S3ClientConfig = {}): S3Client {
  return new S3Client({
    maxAttempts: 4,
    retryMode: 'adaptive',
    // s3rver (local runs) stores aws-chunked framing when checksums are always computed
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });
}

/**
 * ObjectStore over the AWS SDK v3 S3 client (inject your own client: tests, local server).
 *
 * @example
 * const store = new S3ObjectStore(createS3Client({ endpoint: 'http://127.0.0.1:4569', forcePathStyle: true }));
 */
export class S3ObjectStore implements ObjectStore {
  constructor(readonly client: S3Client) {}

  async head(bucket: string, key: string): Promise<ObjectHead | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: r.ContentLength ?? 0,
        eTag: (r.ETag ?? '').replace(/"/g, ''),
        contentType: r.ContentType ?? null,
        metadata: r.Metadata ?? {},
      };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw new StorageError(`S3 HeadObject failed for s3://${bucket}/${key}`, { cause: e });
    }
  }

  async get(bucket: string, key: string, maxBytes: number): Promise<Buffer> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((r.ContentLength ?? 0) > maxBytes) {
        (r.Body as { destroy?: () => void } | undefined)?.destroy?.(); // do not download it
        throw objectTooLarge(r.ContentLength ?? 0, maxBytes);
      }
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of r.Body as AsyncIterable<Uint8Array>) {
        n += chunk.length;
        if (n > maxBytes) throw objectTooLarge(n, maxBytes);
        chunks.push(Buffer.from(chunk));
      }
      return Buffer.concat(chunks, n);
    } catch (e) {
      if (e instanceof InputError) throw e;
      if (isNotFound(e)) {
        throw new InputError(
          ErrorCode.OBJECT_NOT_FOUND,
          `The upload s3://${bucket}/${key} no longer exists.`,
          { cause: e },
        );
      }
      throw new StorageError(`S3 GetObject failed for s3://${bucket}/${key}`, { cause: e });
    }
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
    metadata: Record<string, string> = {},
  ): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          Metadata: metadata,
        }),
      );
    } catch (e) {
      throw new StorageError(`S3 PutObject failed for s3://${bucket}/${key}`, { cause: e });
    }
  }
}
