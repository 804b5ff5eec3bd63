import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
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
      if (ownDir) await rm(directory, { recursive: true, force: true });
    },
  };
}
