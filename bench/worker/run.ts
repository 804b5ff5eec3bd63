// `npx tsx bench/worker/run.ts`: the GPU worker's loop end to end — the same QueueWorker,
// SqsMessageQueue and S3ObjectStore the container runs — against s3rver and the local SQS
// endpoint on 127.0.0.1, over N uploads of real images. Reports uploads/s, where the time goes
// per upload (decode, inference, postprocess, encode, S3 and waiting, from the per-batch
// statistics the worker logs), and with --parity another provider's analysis of the same images
// (max score difference, mask agreement). Runs on this CPU machine; on a GPU host with
// `--provider cuda --parity cpu` it answers issue 14's GPU questions (scripts/gpu/).
//
//   npx tsx bench/worker/run.ts [--provider cpu|cuda] [--images DIR[,DIR…]] [--count 200]
//       [--max-batch 16] [--loops 1] [--threads 0] [--parity cpu|cuda] [--model PATH] [--out FILE.json]
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { DEFAULT_MODEL_PATH, DEFAULT_WORKER_MAX_BATCH, loadConfig } from '../../src/config.js';
import { startLocalS3 } from '../../src/local/s3-server.js';
import { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { AnalysisResult } from '../../src/results/result.js';
import { SqsMessageQueue } from '../../src/service/sqs-queue.js';
import { QueueWorker, type BatchStats } from '../../src/service/worker.js';
import { imageIdFromKey, resultKeys } from '../../src/results/keys.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { s3NotificationBody } from '../../test/helpers/sqs.js';
import { LocalSqsServer } from '../../test/helpers/sqs-server.js';
import { maskAgreement, maxAbsDifference } from './parity.js';

type Provider = 'cpu' | 'cuda';
const IMAGE = /\.(jpe?g|png)$/i;
/** A result.json or mask.png read back for the parity check is far below this. */
const MAX_OUTPUT_BYTES = 64 * 2 ** 20;

function options() {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string', default: 'cpu' },
      images: { type: 'string', default: 'samples' },
      count: { type: 'string', default: '200' },
      'max-batch': { type: 'string', default: String(DEFAULT_WORKER_MAX_BATCH) },
      loops: { type: 'string', default: '1' },
      threads: { type: 'string', default: '0' },
      parity: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL_PATH },
      out: { type: 'string' },
    },
  });
  const int = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${raw}: expected an integer >= ${min}`);
    return n;
  };
  const provider = (name: string, raw: string): Provider => {
    if (raw !== 'cpu' && raw !== 'cuda') throw new Error(`--${name} ${raw}: expected cpu or cuda`);
    return raw;
  };
  return {
    provider: provider('provider', values.provider),
    imageDirs: values.images.split(',').filter(Boolean),
    count: int('count', values.count, 1),
    maxBatch: int('max-batch', values['max-batch'], 1),
    loops: int('loops', values.loops, 1),
    threads: int('threads', values.threads, 0),
    parity: values.parity === undefined ? null : provider('parity', values.parity),
    model: path.resolve(values.model),
    out: values.out ?? null,
  };
}

/** The image files at the top of each folder (masks/ and other subfolders are not uploads). */
async function readImages(dirs: readonly string[]): Promise<{ name: string; bytes: Buffer }[]> {
  const files = dirs.flatMap((d) =>
    readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isFile() && IMAGE.test(e.name))
      .map((e) => path.join(d, e.name))
      .sort(),
  );
  if (files.length === 0) throw new Error(`no images in ${dirs.join(', ')}`);
  return Promise.all(files.map(async (f) => ({ name: path.basename(f), bytes: await readFile(f) })));
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Mask PNG → one byte per pixel. */
async function maskPixels(png: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).extractChannel(0).raw().toBuffer());
}

async function main(): Promise<void> {
  const o = options();
  const images = await readImages(o.imageDirs);
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  const s3 = await startLocalS3({ bucket: 'worker-bench' });
  const sqs = new LocalSqsServer({ maxWaitMs: 100 });
  const queueUrl = await sqs.start();
  const store = new S3ObjectStore(s3.client);
  const config = loadConfig(process.env, {
    modelPath: o.model,
    executionProvider: o.provider,
    intraOpThreads: o.threads,
  });
  const analyzer = await LesionAnalyzer.create({ config });
  if (analyzer.modelInfo.executionProvider !== o.provider)
    throw new Error(`asked for ${o.provider}, onnxruntime gave ${analyzer.modelInfo.executionProvider}`);
  try {
    // Prepare: every upload stored and announced before the clock starts
    const keys: { key: string; image: number }[] = [];
    for (let i = 0; i < o.count; i++) {
      const image = i % images.length;
      const { name, bytes } = images[image]!;
      const key = `${config.uploadsPrefix}bench-${i}-${name}`;
      await store.put(
        s3.bucket,
        key,
        bytes,
        name.toLowerCase().endsWith('.png') ? 'image/png' : 'image/jpeg',
      );
      sqs.queue.send(s3NotificationBody(s3.bucket, key));
      keys.push({ key, image });
    }
    log(
      `${o.count} uploads of ${images.length} images queued; ${o.loops} loop(s), batches of ${o.maxBatch}, ${o.provider}`,
    );

    // Act: the worker loops drain the queue
    const batches: BatchStats[] = [];
    let peakRss = process.memoryUsage().rss;
    const client = new SQSClient({
      region: 'us-east-1',
      endpoint: new URL(queueUrl).origin, // the local endpoint (else the SDK warns on every call)
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const workers = Array.from(
      { length: o.loops },
      () =>
        new QueueWorker(
          new SqsMessageQueue(client, queueUrl),
          { analyzer, store, config },
          {
            maxBatch: o.maxBatch,
            waitSeconds: 1,
            onBatch: (b) => {
              batches.push(b);
              peakRss = Math.max(peakRss, process.memoryUsage().rss);
            },
            onError: (e) => log(`batch failed: ${String(e)}`),
          },
        ),
    );
    const t0 = performance.now();
    const running = workers.map((w) => w.run());
    while (sqs.pending > 0) await new Promise((r) => setTimeout(r, 20));
    const wallMs = performance.now() - t0;
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(running);

    // Assess: throughput and where the time goes, per upload
    const analyzed = batches.reduce((n, b) => n + b.analyzed, 0);
    const rejected = batches.reduce((n, b) => n + b.rejected, 0);
    const perUpload = (k: keyof BatchStats['stagesMs']) =>
      round(batches.reduce((n, b) => n + b.stagesMs[k], 0) / Math.max(1, analyzed));
    const report: Record<string, unknown> = {
      createdAt: new Date().toISOString(),
      command: `npx tsx bench/worker/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
      model: analyzer.modelInfo,
      settings: { ...o, images: images.length },
      uploads: o.count,
      analyzed,
      rejected,
      deadLettered: sqs.queue.deadLetters.length,
      wallSeconds: round(wallMs / 1000, 3),
      uploadsPerSecond: round((o.count * 1000) / wallMs),
      batches: batches.length,
      meanBatchSize: round(mean(batches.map((b) => b.messages))),
      msPerUpload: {
        decode: perUpload('decode'),
        inference: perUpload('inference'),
        postprocess: perUpload('postprocess'),
        encode: perUpload('encode'),
        storageAndOther: perUpload('storageAndOther'),
      },
      queueAgeAtPickupMs: { max: Math.max(0, ...batches.map((b) => b.queueAgeMs?.max ?? 0)) },
      peakRssMiB: round(peakRss / 2 ** 20, 1),
    };

    if (o.parity) report.parity = await parity(o.parity, images, keys, s3.bucket, store, config);
    const text = JSON.stringify(report, null, 2) + '\n';
    if (o.out) await writeFile(o.out, text);
    process.stdout.write(text);
  } finally {
    await analyzer.dispose();
    await sqs.stop();
    await s3.stop();
  }
}

/** The same images analysed in process by `provider`, compared with the worker's stored outputs. */
async function parity(
  provider: Provider,
  images: readonly { name: string; bytes: Buffer }[],
  keys: readonly { key: string; image: number }[],
  bucket: string,
  store: S3ObjectStore,
  config: ReturnType<typeof loadConfig>,
) {
  const reference = await LesionAnalyzer.create({ config: { ...config, executionProvider: provider } });
  const ours: number[] = [];
  const theirs: number[] = [];
  const jaccards: number[] = [];
  const agreements: number[] = [];
  try {
    for (const [i, image] of images.entries()) {
      const first = keys.find((k) => k.image === i);
      if (!first) continue;
      const k = resultKeys(imageIdFromKey(first.key, config.uploadsPrefix), config.resultsPrefix);
      if (!(await store.head(bucket, k.result))) continue; // rejected: no result.json to compare
      const result = JSON.parse(
        (await store.get(bucket, k.result, MAX_OUTPUT_BYTES)).toString('utf8'),
      ) as AnalysisResult;
      const ref = await reference.analyze(image.bytes, { id: `parity-${i}` });
      ours.push(
        result.classification.melanoma.probability,
        result.classification.seborrheicKeratosis.probability,
      );
      theirs.push(
        ref.result.classification.melanoma.probability,
        ref.result.classification.seborrheicKeratosis.probability,
      );
      const stored = await store.get(bucket, k.mask, MAX_OUTPUT_BYTES);
      const a = maskAgreement(await maskPixels(stored), await maskPixels(ref.maskPng));
      jaccards.push(a.jaccard);
      agreements.push(a.pixelAgreement);
    }
  } finally {
    await reference.dispose();
  }
  return {
    against: provider,
    images: jaccards.length,
    maxProbabilityDifference: maxAbsDifference(ours, theirs),
    maskJaccard: { min: Math.min(...jaccards), mean: round(mean(jaccards), 6) },
    maskPixelAgreement: { min: Math.min(...agreements), mean: round(mean(agreements), 6) },
  };
}

function log(msg: string): void {
  process.stderr.write(`[worker bench] ${msg}\n`);
}

await main();
