/**
 * Smoke runs of the two container images that `npm run test:images` builds from
 * functions/gpu-worker/Dockerfile and functions/analyze/Dockerfile (base images swapped for
 * local stand-ins by build args, the CUDA provider download skipped): each image's own entry
 * point, against s3rver and a local SQS endpoint on 127.0.0.1, plus what a user of the image
 * meets — the model file matching its contract, a non-root worker, the health check, the size.
 * Skipped (and said so) unless the images were built by that script.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import { imageIdFromKey, resultKeys } from '../../src/results/keys.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { fixtures, readSamples } from '../helpers/images.js';
import { getBytes, getJson, headOrNull } from '../helpers/s3.js';
import { s3NotificationBody, sqsEvent, sqsRecord } from '../helpers/sqs.js';
import { LocalSqsServer } from '../helpers/sqs-server.js';
import { imageConfig, WorkingContainer, type RunningCommand } from './buildah.js';

const WORKER_IMAGE = process.env.LESION_TEST_WORKER_IMAGE ?? '';
const ANALYZE_IMAGE = process.env.LESION_TEST_ANALYZE_IMAGE ?? '';
const built = WORKER_IMAGE !== '' && ANALYZE_IMAGE !== '';
if (!built)
  console.warn('test/container-images SKIPPED: run `npm run test:images`, which builds the images first');
const describeImages = built ? describe : describe.skip;

/** Both images stay well under this (the worker without CUDA libraries). */
const MAX_IMAGE_BYTES = 1_000_000_000;
const MiB = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

let s3: LocalS3;
const containers: WorkingContainer[] = [];
const commands: RunningCommand[] = [];

beforeAll(async () => {
  if (built) s3 = await startLocalS3({ bucket: 'image-smoke' });
});

afterAll(async () => {
  for (const c of commands) if (c.running) c.child.kill('SIGKILL');
  await Promise.all(containers.map((c) => c.remove()));
  await s3?.stop();
});

async function container(image: string): Promise<WorkingContainer> {
  const c = await WorkingContainer.from(image);
  containers.push(c);
  return c;
}

/** What the AWS SDK inside the image needs to find s3rver (the role's credentials in AWS). */
function awsEnv(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** sha256 of the model file inside the image, and the sha256 its sidecar contract declares. */
async function modelDigests(
  c: WorkingContainer,
  modelPath: string,
): Promise<{ file: string; sidecar: string }> {
  const script = `const fs = require('node:fs'); const { createHash } = require('node:crypto');
    const p = ${JSON.stringify(modelPath)};
    console.log(JSON.stringify({
      file: createHash('sha256').update(fs.readFileSync(p)).digest('hex'),
      sidecar: JSON.parse(fs.readFileSync(p.replace(/\\.onnx$/, '.json'), 'utf8')).sha256,
    }));`;
  const r = await c.run(['node', '-e', script]);
  expect(r).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout) as { file: string; sidecar: string };
}

async function upload(key: string, bytes: Buffer): Promise<void> {
  await new S3ObjectStore(s3.client).put(s3.bucket, key, bytes, 'image/jpeg');
}

const keysOf = (key: string) => resultKeys(imageIdFromKey(key, 'uploads/'), 'results/');

async function until(what: string, cond: () => Promise<boolean>, cmd: RunningCommand, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (!cmd.running) throw new Error(`the container exited while waiting for ${what}:\n${cmd.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${cmd.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeImages('GPU worker image (functions/gpu-worker/Dockerfile)', () => {
  it('is small, runs as a non-root user, and ships the model its contract names', async () => {
    const config = await imageConfig(WORKER_IMAGE);
    console.log(`worker image (no CUDA libraries): ${MiB(config.sizeBytes)}`);
    expect(config.sizeBytes).toBeLessThan(MAX_IMAGE_BYTES);
    expect(config.user).toBe('lesion');
    expect(config.env).toMatchObject({ ORT_DISABLE_TELEMETRY: '1', LESION_EXECUTION_PROVIDER: 'cuda' });
    expect(config.healthcheck).toEqual(['CMD', 'node', 'healthcheck.mjs']);
    const c = await container(WORKER_IMAGE);
    const id = await c.run(['id', '-u']);
    expect(id.code).toBe(0);
    expect(Number(id.stdout.trim())).not.toBe(0);
    const digests = await modelDigests(c, config.env.LESION_MODEL_PATH!);
    expect(digests.file).toBe(digests.sidecar);
    expect(digests.file).toBe(sha256(await readFile(path.join(PACKAGE_ROOT, 'models', 'lesion-mtl.onnx'))));
  });

  it('its entry point drains uploads from SQS into results (CPU provider), reports healthy, and stops cleanly on SIGTERM', async () => {
    // Prepare: three sample photos and one text file named .jpg on s3rver, one message each
    const config = await imageConfig(WORKER_IMAGE);
    const c = await container(WORKER_IMAGE);
    const sqs = new LocalSqsServer({ maxWaitMs: 1000 });
    const queueUrl = await sqs.start();
    try {
      const uploads = new Map<string, Buffer>();
      for (const [i, sample] of (await readSamples()).slice(0, 3).entries())
        uploads.set(`uploads/worker-${i}.jpg`, sample.bytes);
      uploads.set('uploads/worker-notes.jpg', fixtures.text());
      for (const [key, bytes] of uploads) {
        await upload(key, bytes);
        sqs.queue.send(s3NotificationBody(s3.bucket, key));
      }
      const before = await c.run(config.cmd.map((a) => (a === 'worker.mjs' ? 'healthcheck.mjs' : a)));
      expect(before.code).toBe(1); // no worker has run: no heartbeat
      expect(before.stdout).toMatch(/^unhealthy: no heartbeat/);

      // Act: the image's own CMD, told to use the CPU provider
      const worker = c.start(config.cmd, {
        ...awsEnv(),
        LESION_QUEUE_URL: queueUrl,
        LESION_EXECUTION_PROVIDER: 'cpu',
        LESION_MAX_BATCH: '4',
      });
      commands.push(worker);
      const answered = async () => {
        for (const key of uploads.keys()) {
          const k = keysOf(key);
          if (!(await headOrNull(s3.client, s3.bucket, key.endsWith('notes.jpg') ? k.error : k.result)))
            return false;
        }
        return sqs.pending === 0;
      };
      await until('every upload answered', answered, worker, 180_000);
      const health = await c.run(['node', 'healthcheck.mjs']);
      worker.signal('SIGTERM');
      const code = await worker.exited;

      // Assess
      expect({ code, health: health.code, says: health.stdout }).toMatchObject({
        code: 0,
        health: 0,
        says: expect.stringMatching(/^healthy: last successful poll/),
      });
      expect(sqs.queue.deleted).toHaveLength(4);
      expect(sqs.queue.deadLetters).toEqual([]);
      for (const [key, bytes] of uploads) {
        expect((await getBytes(s3.client, s3.bucket, key)).equals(bytes)).toBe(true); // never changed
        if (key.endsWith('notes.jpg')) {
          expect(await getJson(s3.client, s3.bucket, keysOf(key).error)).toMatchObject({ status: 'error' });
          continue;
        }
        const result = await getJson(s3.client, s3.bucket, keysOf(key).result);
        expect(result).toMatchObject({ status: 'ok', model: { executionProvider: 'cpu' } });
        expect(await headOrNull(s3.client, s3.bucket, keysOf(key).mask)).not.toBeNull();
      }
      // one structured line per batch, with where the time went
      const batches = worker
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.message === 'batch');
      expect(batches.length).toBeGreaterThan(0);
      expect(batches.reduce((n, b) => n + (b.messages as number), 0)).toBe(4);
      expect(batches[0]).toMatchObject({
        stagesMs: {
          decode: expect.any(Number),
          inference: expect.any(Number),
          storageAndOther: expect.any(Number),
        },
        queueAgeMs: { max: expect.any(Number) },
      });
    } finally {
      await sqs.stop();
    }
  }, 300_000);

  it('a worker whose model cannot be loaded exits 1 and its health check fails', async () => {
    const config = await imageConfig(WORKER_IMAGE);
    const c = await container(WORKER_IMAGE);
    const env = {
      ...awsEnv(),
      LESION_QUEUE_URL: 'http://127.0.0.1:9/000000000000/none',
      LESION_EXECUTION_PROVIDER: 'cpu',
      LESION_MODEL_PATH: '/app/models/missing.onnx',
    };
    const run = await c.run(config.cmd, env);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain('worker failed to start');
    expect((await c.run(['node', 'healthcheck.mjs'])).code).toBe(1);
  }, 120_000);
});

describeImages('analyze Lambda image (functions/analyze/Dockerfile)', () => {
  it('is small and ships the model its contract names', async () => {
    const config = await imageConfig(ANALYZE_IMAGE);
    console.log(`analyze Lambda image (stand-in base): ${MiB(config.sizeBytes)}`);
    expect(config.sizeBytes).toBeLessThan(MAX_IMAGE_BYTES);
    expect(config.env).toMatchObject({ ORT_DISABLE_TELEMETRY: '1', LESION_EXECUTION_PROVIDER: 'cpu' });
    const digests = await modelDigests(await container(ANALYZE_IMAGE), config.env.LESION_MODEL_PATH!);
    expect(digests.file).toBe(digests.sidecar);
  });

  it('the bundled handler that CMD names answers a real SQS event against s3rver', async () => {
    // Prepare
    const config = await imageConfig(ANALYZE_IMAGE);
    const [handlerFile, handlerName] = config.cmd[0]!.split('.');
    const c = await container(ANALYZE_IMAGE);
    const sample = (await readSamples())[0]!.bytes;
    await upload('uploads/lambda a b.jpg', sample);
    await upload('uploads/lambda-notes.jpg', fixtures.text());
    const event = sqsEvent([
      sqsRecord(s3NotificationBody(s3.bucket, 'uploads/lambda a b.jpg')),
      sqsRecord(s3NotificationBody(s3.bucket, 'uploads/lambda-notes.jpg')),
    ]);
    // what the Lambda runtime does: import the handler module at init, then call it per event
    const invoke = `const m = await import(process.env.LAMBDA_TASK_ROOT + '/${handlerFile}.mjs');
      const context = { functionName: 'lesion-analyze', awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
        getRemainingTimeInMillis: () => 60000 };
      const response = await m[${JSON.stringify(handlerName)}](JSON.parse(process.env.EVENT), context);
      console.log('RESPONSE ' + JSON.stringify(response));`;

    // Act
    const r = await c.run(['node', '--input-type=module', '-e', invoke], {
      ...awsEnv(),
      EVENT: JSON.stringify(event),
      LESION_MAX_RECEIVE_COUNT: '3',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });

    // Assert
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const response = r.stdout.split('\n').find((l) => l.startsWith('RESPONSE '));
    expect(JSON.parse(response!.slice('RESPONSE '.length))).toEqual({ batchItemFailures: [] });
    expect(await getJson(s3.client, s3.bucket, keysOf('uploads/lambda a b.jpg').result)).toMatchObject({
      status: 'ok',
      model: { executionProvider: 'cpu' },
    });
    expect(await getJson(s3.client, s3.bucket, keysOf('uploads/lambda-notes.jpg').error)).toMatchObject({
      status: 'error',
    });
  }, 180_000);
});
