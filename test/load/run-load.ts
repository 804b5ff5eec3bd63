/**
 * Load test of the whole local pipeline: `npm run test:load -- [--count 1000] [--max-seconds 600]
 * [--concurrency 2] [--batch-size 4] [--threads 1] [--provider cpu] [--model path] [--out docs]`.
 *
 * N uploads (the bundled samples/ photos, plus ../shared/data/isic2017_fullres_samples when that
 * folder exists) go into a real S3-compatible server on 127.0.0.1 (s3rver) while `--concurrency`
 * drain loops process its notifications in batches of `--batch-size`, through the same batch
 * core as the Lambda. Nothing leaves 127.0.0.1.
 *
 * Reports throughput, p50/p95/max latency from the upload to its result.json (or error.json),
 * peak RSS, `lost` (uploads without exactly one result.json or error.json) and `duplicates`
 * (uploads with more than one completion event), and writes docs/load-test.{md,json}.
 * Exit code 1 when anything was lost or duplicated. Not part of jest.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { format } from 'prettier';
import { loadConfig, type LesionConfig } from '../../src/config.js';
import { LocalPipeline } from '../../src/local/pipeline.js';
import { imageIdFromKey } from '../../src/results/keys.js';
import type { ObjectHead, ObjectStore } from '../../src/storage/s3.js';
import { fullResImages } from '../helpers/fullres.js';
import { samplePaths } from '../helpers/images.js';
import { REPO_ROOT, requireTestModel, testModelPath } from '../helpers/model.js';
import { listAll } from '../helpers/s3.js';

interface Options {
  count: number;
  maxSeconds: number;
  concurrency: number;
  batchSize: number;
  threads: number;
  provider: 'cpu' | 'cuda' | 'auto';
  model: string;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    count: 1000,
    maxSeconds: 600,
    concurrency: 2,
    batchSize: 4,
    threads: 1,
    provider: 'cpu',
    model: testModelPath(),
    out: path.join(REPO_ROOT, 'docs'),
  };
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} expects an integer >= ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--count') o.count = int(a, v, 1);
    else if (a === '--max-seconds') o.maxSeconds = int(a, v, 1);
    else if (a === '--concurrency') o.concurrency = int(a, v, 1);
    else if (a === '--batch-size') o.batchSize = int(a, v, 1);
    else if (a === '--threads') o.threads = int(a, v, 0);
    else if (a === '--provider') {
      if (v !== 'cpu' && v !== 'cuda' && v !== 'auto')
        throw new Error(`--provider expects cpu, cuda or auto, got ${v}`);
      o.provider = v;
    } else if (a === '--model') o.model = path.resolve(v ?? '');
    else if (a === '--out') o.out = path.resolve(v ?? '');
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run test:load -- [--count 1000] [--max-seconds 600] [--concurrency 2] [--batch-size 4] [--threads 1] [--provider cpu|cuda|auto] [--model models/lesion-mtl.onnx] [--out docs]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
    i++;
  }
  return o;
}

/** Records when each upload's answer (result.json / error.json) was written, and how often. */
class TimingStore implements ObjectStore {
  readonly answeredAt = new Map<string, number>();
  readonly answerWrites = new Map<string, number>();

  constructor(
    private readonly inner: ObjectStore,
    private readonly resultsPrefix: string,
  ) {}

  head(bucket: string, key: string): Promise<ObjectHead | null> {
    return this.inner.head(bucket, key);
  }

  get(bucket: string, key: string, maxBytes: number): Promise<Buffer> {
    return this.inner.get(bucket, key, maxBytes);
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
    metadata?: Record<string, string>,
  ) {
    await this.inner.put(bucket, key, body, contentType, metadata);
    const m = /^(.*)\/(result|error)\.json$/.exec(key);
    if (m && key.startsWith(this.resultsPrefix)) {
      const id = m[1]!.slice(this.resultsPrefix.length);
      if (!this.answeredAt.has(id)) this.answeredAt.set(id, performance.now());
      this.answerWrites.set(id, (this.answerWrites.get(id) ?? 0) + 1);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (x: number | null, d = 1) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  process.env.LESION_TEST_MODEL ??= o.model;
  requireTestModel();
  const sources = [...samplePaths(), ...fullResImages()];
  const images = await Promise.all(
    sources.map(async (p) => ({ name: path.basename(p), bytes: await readFile(p) })),
  );
  const fullRes = sources.length - samplePaths().length;

  const config: LesionConfig = loadConfig(
    {},
    { modelPath: o.model, executionProvider: o.provider, intraOpThreads: o.threads },
  );
  let store!: TimingStore;
  const pipeline = await LocalPipeline.start({
    config,
    batchSize: o.batchSize,
    wrapStore: (s) => (store = new TimingStore(s, config.resultsPrefix)),
  });
  const model = pipeline.analyzer.modelInfo;
  console.log(
    `load test: ${o.count} uploads (${images.length} distinct images, ${fullRes} full-res), concurrency ${o.concurrency}, batch ${o.batchSize}, ` +
      `model ${model.name} ${model.version} on ${model.executionProvider}, s3 ${pipeline.s3.endpoint}, limit ${o.maxSeconds} s`,
  );

  const uploads: { key: string; id: string; at: number; bytes: number }[] = [];
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  let uploading = true;
  let stop = false;
  let uploadRetries = 0;

  // drain loops: several workers take batches from the same queue
  const drains = Array.from({ length: o.concurrency }, async () => {
    while (!stop) {
      if (pipeline.pending > 0) await pipeline.drain();
      else if (!uploading && store.answeredAt.size + pipeline.deadLetters.length >= uploads.length) break;
      else await sleep(5);
      if (performance.now() > deadline) break;
    }
  });

  // upload as fast as the server takes them, 8 in flight
  let next = 0;
  const uploaders = Array.from({ length: 8 }, async () => {
    while (next < o.count && performance.now() < deadline) {
      const i = next++;
      const img = images[i % images.length]!;
      const key = `${config.uploadsPrefix}load/${String(i).padStart(6, '0')}-${img.name}`;
      const entry = {
        key,
        id: imageIdFromKey(key, config.uploadsPrefix),
        at: performance.now(),
        bytes: img.bytes.length,
      };
      // a real client retries a failed PUT (counted in the report)
      for (let attempt = 1; ; attempt++) {
        try {
          await pipeline.upload(key, img.bytes, 'image/jpeg');
          break;
        } catch (e) {
          if (attempt >= 5) throw e;
          uploadRetries++;
          await sleep(50 * 2 ** attempt);
        }
      }
      uploads.push(entry);
    }
  });
  await Promise.all(uploaders);
  uploading = false;
  const tUploaded = performance.now();
  await Promise.all(drains);
  stop = true;
  const tEnd = performance.now();
  const timedOut = tEnd >= deadline && store.answeredAt.size < uploads.length;

  // Assess from the bucket itself: exactly one answer per upload, events at most once
  const listed = await listAll(pipeline.s3.client, pipeline.bucket, `${config.resultsPrefix}load/`);
  const answers = new Map<string, string[]>();
  for (const obj of listed) {
    const m = /^(.*)\/(result|error)\.json$/.exec(obj.key.slice(config.resultsPrefix.length));
    if (m) answers.set(m[1]!, [...(answers.get(m[1]!) ?? []), m[2]!]);
  }
  const lostIds = uploads.filter((u) => (answers.get(u.id) ?? []).length !== 1).map((u) => u.id);
  const eventsPerId = new Map<string, number>();
  for (const e of pipeline.publisher.events)
    eventsPerId.set(e.detail.imageId, (eventsPerId.get(e.detail.imageId) ?? 0) + 1);
  const duplicates = [...eventsPerId.values()].filter((n) => n > 1).length;
  const rewrites = [...store.answerWrites.values()].filter((n) => n > 1).length;

  const latencies = uploads
    .filter((u) => store.answeredAt.has(u.id))
    .map((u) => store.answeredAt.get(u.id)! - u.at)
    .sort((a, b) => a - b);
  const completed = latencies.length;
  const lastAnswer = Math.max(t0, ...store.answeredAt.values());
  const seconds = (lastAnswer - t0) / 1000;
  const statuses: Record<string, number> = {};
  for (const oc of pipeline.outcomes) statuses[oc.status] = (statuses[oc.status] ?? 0) + 1;
  const stage = { decode: 0, inference: 0, postprocess: 0, encode: 0, total: 0 };
  let okCount = 0;
  for (const oc of pipeline.outcomes) {
    if (oc.status !== 'ok') continue;
    okCount++;
    for (const k of Object.keys(stage) as (keyof typeof stage)[]) stage[k] += oc.result.timingsMs[k];
  }
  for (const k of Object.keys(stage) as (keyof typeof stage)[])
    stage[k] = round(okCount ? stage[k] / okCount : 0, 2)!;

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
    },
    model: {
      ...model,
      path: o.model.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, o.model) : o.model,
    },
    settings: {
      count: o.count,
      maxSeconds: o.maxSeconds,
      concurrency: o.concurrency,
      batchSize: o.batchSize,
      intraOpThreads: o.threads,
      distinctImages: images.length,
      fullResImages: fullRes,
      s3: 's3rver on 127.0.0.1',
    },
    results: {
      uploaded: uploads.length,
      completed,
      timedOut,
      outcomes: statuses,
      deadLettered: pipeline.deadLetters.length,
      lost: lostIds.length,
      duplicates,
      answerRewrites: rewrites,
      seconds: round(seconds, 2),
      uploadSeconds: round((tUploaded - t0) / 1000, 2),
      uploadRetries,
      throughputPerSecond: round(seconds > 0 ? completed / seconds : 0, 2),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        max: round(latencies.at(-1) ?? null),
      },
      meanStageMs: stage,
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 1),
      totalSeconds: round((tEnd - t0) / 1000, 2),
    },
    lostIds: lostIds.slice(0, 20),
  };

  await mkdir(o.out, { recursive: true });
  // formatted like the rest of the repository, so `prettier --check .` stays clean after a run
  await writeFile(
    path.join(o.out, 'load-test.json'),
    await format(JSON.stringify(report), { parser: 'json' }),
  );
  await writeFile(path.join(o.out, 'load-test.md'), markdown(report));
  console.log(JSON.stringify(report.results, null, 2));
  console.log(`wrote ${path.relative(process.cwd(), path.join(o.out, 'load-test.md'))} and load-test.json`);
  await pipeline.stop();
  if (report.results.lost > 0 || duplicates > 0) process.exitCode = 1;
}

function markdown(r: {
  date: string;
  machine: Record<string, unknown>;
  model: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: Record<string, unknown> & {
    latencyMs: Record<string, unknown>;
    meanStageMs: Record<string, unknown>;
  };
}): string {
  const row = (k: string, v: unknown) =>
    `| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : String(v)} |`;
  const res = r.results;
  return [
    '# Load test',
    '',
    `Run ${r.date} with \`npm run test:load -- --count ${String(r.settings.count)} --concurrency ${String(r.settings.concurrency)} --batch-size ${String(r.settings.batchSize)} --threads ${String(r.settings.intraOpThreads)}\` (test/load/run-load.ts).`,
    '',
    'Every upload goes into a real S3-compatible server on 127.0.0.1 (s3rver); its ObjectCreated notifications are queued with',
    "SQS semantics and processed by parallel drain loops through the Lambda's own batch core (`processMessages`), one inference",
    'per batch. Latency is measured from the start of the upload to the write of its result.json (or error.json), so it includes',
    'queueing behind earlier uploads: with uploads arriving faster than they are processed, p95 grows with the backlog.',
    '`lost` = uploads without exactly one result.json or error.json; `duplicates` = uploads with more than one completion event.',
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    ...Object.entries(r.machine).map(([k, v]) => row(k, v)),
    '',
    '## Model and settings',
    '',
    '| | |',
    '|---|---|',
    ...Object.entries(r.model).map(([k, v]) => row(`model.${k}`, v)),
    ...Object.entries(r.settings).map(([k, v]) => row(k, v)),
    '',
    '## Results',
    '',
    '| metric | value |',
    '|---|---|',
    row('uploaded', res.uploaded),
    row('upload PUTs retried by the client (s3rver 500s)', res.uploadRetries),
    row('completed (result.json or error.json written)', res.completed),
    row('timed out', res.timedOut),
    row('outcomes', res.outcomes),
    row('dead-lettered', res.deadLettered),
    row('**lost**', res.lost),
    row('**duplicates** (uploads with > 1 completion event)', res.duplicates),
    row('answers written more than once', res.answerRewrites),
    row('throughput (images/s)', res.throughputPerSecond),
    row('latency p50 (ms)', res.latencyMs.p50),
    row('latency p95 (ms)', res.latencyMs.p95),
    row('latency max (ms)', res.latencyMs.max),
    row('mean stage times of ok results (ms)', res.meanStageMs),
    row('peak RSS (MiB)', res.peakRssMiB),
    row('wall time (s)', res.totalSeconds),
    '',
    'Numbers depend on the machine and on what else runs on it (see the load average above); compare runs on the same host only.',
    '',
  ].join('\n');
}

main().catch((e: unknown) => {
  console.error(`load test failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(2); // the embedded S3 server would keep the process alive
});
