/**
 * The GPU worker as a real process (functions/gpu-worker/worker.ts, the shipped model on the
 * CPU provider) against s3rver and a local SQS endpoint on 127.0.0.1:
 * - SIGKILL in the middle of a batch: nothing deleted from the queue, the batch reappears after
 *   its visibility timeout, a fresh process completes every upload, each result.json is written
 *   exactly once and no message is dead-lettered;
 * - SIGTERM in the middle of a batch: the batch is finished and deleted, then exit code 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { fixtures, readSamples } from '../helpers/images.js';
import { getBytes, listAll, resultsByImageId } from '../helpers/s3.js';
import { s3NotificationBody } from '../helpers/sqs.js';
import { LocalSqsServer } from '../helpers/sqs-server.js';

const WORKER = path.join(PACKAGE_ROOT, 'functions', 'gpu-worker', 'worker.ts');
/** A completed upload's objects (no event bus configured, so no event.json marker). */
const COMPLETE = ['mask.png', 'overlay.jpg', 'report.fhir.json', 'result.json'];

let s3: LocalS3;
/** Every key written, in order (the server's ObjectCreated notifications). */
const created: string[] = [];
const writes = (key: string) => created.filter((k) => k === key).length;
/** Called on every write, inside the server's own notification (so a kill lands right there). */
let onWrite: (key: string) => void = () => {};

beforeAll(async () => {
  s3 = await startLocalS3({ bucket: 'worker-process' });
  s3.onObjectCreated((json) => {
    for (const r of (JSON.parse(json) as { Records: { s3: { object: { key: string } } }[] }).Records) {
      const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
      created.push(key);
      onWrite(key);
    }
  });
});

/** Every worker started, so a failing test leaves no process behind. */
const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await s3.stop();
});

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

function startWorker(queueUrl: string): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: PACKAGE_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LESION_QUEUE_URL: queueUrl,
      LESION_MAX_BATCH: '4',
      LESION_EXECUTION_PROVIDER: 'cpu',
      LESION_INTRA_OP_THREADS: '1',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => out };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, worker: Worker, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (worker.child.exitCode !== null)
      throw new Error(`worker exited while waiting for ${what}:\n${worker.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${worker.output()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function upload(prefix: string, n: number, sqs: LocalSqsServer): Promise<Map<string, Buffer>> {
  const samples = await readSamples();
  const store = new S3ObjectStore(s3.client);
  const uploads = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}.jpg`;
    const bytes = i === n - 1 ? fixtures.text() : samples[i % samples.length]!.bytes; // the last is not an image
    await store.put(s3.bucket, `uploads/${id}`, bytes, 'image/jpeg');
    sqs.queue.send(s3NotificationBody(s3.bucket, `uploads/${id}`));
    uploads.set(id, Buffer.from(bytes));
  }
  return uploads;
}

async function resultNames(prefix: string): Promise<Map<string, string[]>> {
  const keys = (await listAll(s3.client, s3.bucket, `results/${prefix}-`)).map((o) => o.key);
  return resultsByImageId(keys, 'results/');
}

describe('GPU worker process (real process, shipped model, CPU provider)', () => {
  it('SIGKILL mid-batch: the batch is redelivered and every upload completes exactly once', async () => {
    // Prepare: 11 uploads (10 images, 1 text file named .jpg), batches of 4
    const sqs = new LocalSqsServer({ maxReceives: 3 });
    const queueUrl = await sqs.start();
    try {
      const uploads = await upload('kill', 11, sqs);

      // Act 1: kill -9 while the second batch writes its results (the first batch of 4 has
      // written its 4 masks; a 5th mask means the second batch is past inference)
      const w1 = startWorker(queueUrl);
      let masks = 0;
      onWrite = (key) => {
        if (key.startsWith('results/kill-') && key.endsWith('/mask.png') && ++masks === 5)
          w1.child.kill('SIGKILL');
      };
      expect((await w1.exited).signal).toBe('SIGKILL');
      onWrite = () => {};
      const killedBatch = sqs.queue.inFlightIds();
      expect(killedBatch.length).toBeGreaterThan(0);
      // it died mid-write: some upload has its mask but not its result.json (written last)
      const halfWritten = [...(await resultNames('kill')).values()].filter(
        (names) => names.includes('mask.png') && !names.includes('result.json'),
      );
      expect(halfWritten.length).toBeGreaterThan(0);

      // Act 2: the visibility timeout ends; a fresh worker process drains the queue
      sqs.queue.expireVisibility();
      const w2 = startWorker(queueUrl);
      await until('an empty queue', () => sqs.pending === 0, w2, 120_000);
      w2.child.kill('SIGTERM');
      expect(await w2.exited).toEqual({ code: 0, signal: null });

      // Assess: one answer per upload, each answer written once, uploads untouched, no DLQ
      expect(sqs.queue.deadLetters).toEqual([]);
      expect(sqs.queue.deleted).toHaveLength(11);
      for (const id of killedBatch) expect(sqs.queue.receiveCount(id)).toBe(2); // redelivered once
      const results = await resultNames('kill');
      expect([...results.keys()].sort()).toEqual([...uploads.keys()].sort());
      for (const id of uploads.keys()) {
        const answer = id === 'kill-10.jpg' ? 'error.json' : 'result.json';
        const names = answer === 'error.json' ? ['error.json'] : COMPLETE;
        expect({ id, names: results.get(id) }).toEqual({ id, names });
        expect({ id, writes: writes(`results/${id}/${answer}`) }).toEqual({ id, writes: 1 });
        expect((await getBytes(s3.client, s3.bucket, `uploads/${id}`)).equals(uploads.get(id)!)).toBe(true);
      }
    } finally {
      await sqs.stop();
    }
  }, 240_000);

  it('SIGTERM mid-batch: the batch in flight is finished and deleted, then exit code 0', async () => {
    const sqs = new LocalSqsServer();
    const queueUrl = await sqs.start();
    try {
      await upload('term', 4, sqs);
      const w = startWorker(queueUrl);
      await until('a batch in flight', () => sqs.queue.inFlight > 0, w);
      w.child.kill('SIGTERM');
      expect(await w.exited).toEqual({ code: 0, signal: null });
      expect([sqs.pending, sqs.queue.deleted.length]).toEqual([0, 4]);
      const results = await resultNames('term');
      expect([...results.values()].filter((names) => names.includes('result.json'))).toHaveLength(3);
      expect(results.get('term-3.jpg')).toEqual(['error.json']);
    } finally {
      await sqs.stop();
    }
  }, 120_000);
});
