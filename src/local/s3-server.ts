import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { S3_MAX_KEY_BYTES } from '../storage/s3-limits.js';
import { createS3Client } from '../storage/s3.js';
import { startVerifyingProxy } from './s3-verify-proxy.js';

/** Credentials of the local S3 server (s3rver's defaults); the verifying proxy knows only these. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3 {
  /** The verifying proxy (SigV4 checked as S3 does); every client and presigned URL uses it. */
  readonly endpoint: string;
  /** s3rver itself, which checks no signature (tests that need to bypass the checks). */
  readonly backendEndpoint: string;
  readonly bucket: string;
  readonly client: S3Client;
  readonly directory: string;
  /** Subscribe to S3-style ObjectCreated notifications (keys URL-encoded as real S3 does). */
  onObjectCreated(listener: (notificationJson: string) => void): void;
  stop(): Promise<void>;
}

/** Encode a key the way S3 event notifications do: form encoding, '/' kept. */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/%20/g, '+'))
    .join('/');
}

export { S3_MAX_KEY_BYTES };
/**
 * s3rver stores each key segment as a file name (at most 255 bytes) with a suffix of up to 22
 * ('._S3rver_metadata.json'): a longer segment made its write stream fail with ENAMETOOLONG, an
 * unhandled 'error' event that killed the process.
 */
export const LOCAL_MAX_SEGMENT_BYTES = 255 - '._S3rver_metadata.json'.length;

/**
 * Why the local S3 server cannot store `key` (over S3's 1,024 bytes, or a segment too long for
 * its file storage), or null when it can.
 *
 * @example
 * localKeyProblem(`uploads/${'a'.repeat(240)}.jpg`) // 'a key segment of 244 bytes: …'
 */
export function localKeyProblem(key: string): string | null {
  const bytes = Buffer.byteLength(key);
  if (bytes > S3_MAX_KEY_BYTES) return `the key is ${bytes} bytes; S3 allows ${S3_MAX_KEY_BYTES}`;
  const long = key.split('/').find((s) => Buffer.byteLength(s) > LOCAL_MAX_SEGMENT_BYTES);
  if (long !== undefined) {
    return `a key segment of ${Buffer.byteLength(long)} bytes: the local S3 server stores each segment as a file name, at most ${LOCAL_MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

interface S3rverStore {
  putObject(object: { key: string }): Promise<unknown>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    ...rest: unknown[]
  ): Promise<unknown>;
}

/**
 * Make s3rver refuse a key it cannot store with S3's own answer (400 KeyTooLongError) instead of
 * crashing the process.
 */
function guardKeys(server: S3rver): void {
  const S3Error = createRequire(import.meta.url)('s3rver/lib/models/error.js') as new (
    code: string,
    message: string,
  ) => Error;
  const store = (server as unknown as { store: S3rverStore }).store;
  const check = (key: string) => {
    const problem = localKeyProblem(key);
    if (problem) throw new S3Error('KeyTooLongError', `Your key is too long: ${problem}.`);
  };
  const putObject = store.putObject.bind(store);
  const copyObject = store.copyObject.bind(store);
  store.putObject = (object) => {
    check(object.key);
    return putObject(object);
  };
  store.copyObject = (srcBucket, srcKey, destBucket, destKey, ...rest) => {
    check(destKey);
    return copyObject(srcBucket, srcKey, destBucket, destKey, ...rest);
  };
}

/**
 * Start a real S3-compatible server (s3rver) on 127.0.0.1 with one bucket, in a private temp
 * directory removed on stop, behind a proxy that verifies SigV4 signatures, presigned URLs
 * included, as S3 does (src/local/s3-verify-proxy.ts). `port` is the proxy's port.
 *
 * @example
 * const s3 = await startLocalS3({ bucket: 'lesion-local' });
 */
export async function startLocalS3(
  opts: { bucket?: string; port?: number; directory?: string } = {},
): Promise<LocalS3> {
  const bucket = opts.bucket ?? 'lesion-local';
  const ownDir = !opts.directory;
  const directory = opts.directory ?? (await mkdtemp(path.join(tmpdir(), 'lesion-s3-')));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  guardKeys(server);
  // the temporary directory goes even when the process ends without stop() (an uncaught error,
  // process.exit from a signal handler)
  const removeDir = () => rmSync(directory, { recursive: true, force: true });
  if (ownDir) process.once('exit', removeDir);
  const addr = await server.run();
  const backendEndpoint = `http://127.0.0.1:${addr.port}`;
  let proxy;
  try {
    proxy = await startVerifyingProxy({
      backend: backendEndpoint,
      credentials: new Map([[LOCAL_S3_CREDENTIALS.accessKeyId, LOCAL_S3_CREDENTIALS.secretAccessKey]]),
      port: opts.port ?? 0,
    });
  } catch (e) {
    await server.close();
    if (ownDir) await rm(directory, { recursive: true, force: true });
    throw e;
  }
  const endpoint = proxy.endpoint;
  const client = createS3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...LOCAL_S3_CREDENTIALS },
    maxAttempts: 3,
  });
  const listeners: ((json: string) => void)[] = [];
  server.on('event', (event: { Records: unknown[] }) => {
    const records = (event.Records as { eventName?: string; s3?: { object?: { key?: string } } }[]).map(
      (r) => ({
        ...r,
        eventSource: 'aws:s3',
        s3: { ...r.s3, object: { ...r.s3?.object, key: encodeEventKey(r.s3?.object?.key ?? '') } },
      }),
    );
    const json = JSON.stringify({ Records: records });
    for (const l of listeners) l(json);
  });
  return {
    endpoint,
    backendEndpoint,
    bucket,
    client,
    directory,
    onObjectCreated(listener) {
      listeners.push(listener);
    },
    async stop() {
      client.destroy();
      await proxy.close();
      await server.close();
      if (ownDir) {
        process.off('exit', removeDir);
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}
