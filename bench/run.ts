// `npm run bench`: model-only speed, the FLOP floor, end to end per image (with S3 on a local
// server), cold start, peak RSS, and the PyTorch / onnxruntime-web anchors, all in one run so
// the ratios compare like with like. Writes <out>/latest.json and <out>/latest.md.
//
//   npm run bench -- [--quick] [--model models/lesion-mtl.onnx] [--out docs/benchmarks]
//                    [--threads 2] [--skip model,floor,e2e,s3,pytorch,wasm,cold,gpu]
//                    [--fullres ../shared/data/isic2017_fullres_samples] [--python /usr/bin/python3]
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { decodeImage } from '../src/image/decode.js';
import { loadModelFiles } from '../src/model/contract.js';
import { LesionAnalyzer } from '../src/pipeline/analyzer.js';
import { prepareImages } from './lib/images.js';
import { machineInfo } from './lib/machine.js';
import { renderMarkdown } from './lib/report.js';
import { buildCli } from '../scripts/bundle.js';
import { ratio } from './lib/stats.js';
import { runChild } from './lib/timing.js';
import {
  BENCH_SCHEMA,
  isSkipped,
  type BenchImage,
  type BenchResults,
  type E2eRow,
  type Ratios,
  type RssRow,
  type SkippedRow,
} from './lib/types.js';
import {
  benchColdStart,
  benchPytorch,
  benchWasm,
  bundleColdStart,
  coldVariants,
  peakRssRepeated,
} from './sections/children.js';
import { benchE2e, S3Bench } from './sections/e2e.js';
import { applyFloor, benchFloor, benchModelOnly, gpuBlocker } from './sections/model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = ['model', 'floor', 'e2e', 's3', 'pytorch', 'wasm', 'cold', 'gpu'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `npm run bench -- [options]

  --quick            few iterations: proves the harness works, figures not to be quoted
  --model PATH       ONNX model with its sidecar PATH.json          [models/lesion-mtl.onnx]
  --out DIR          where latest.json and latest.md go             [docs/benchmarks]
  --threads N        onnxruntime intra-op threads (and torch threads) [2]
  --skip LIST        comma-separated sections to skip: ${SECTIONS.join(',')}
  --fullres DIR      real full-resolution uploads        [../shared/data/isic2017_fullres_samples]
  --python PATH      interpreter with torch for the PyTorch anchor  [/usr/bin/python3]
`;

/** Iteration counts: default (the published run, ~2–4 min on 2 cores) and --quick (smoke). */
function settingsFor(quick: boolean) {
  return quick
    ? {
        model: { warmup: 2, iters: 5, batches: [1, 4, 16], throughputMinMs: 200, throughputMinIters: 2 },
        floor: { size: 1024, warmup: 1, minMs: 300, minIters: 2 },
        e2e: { warmup: 1, iters: 2, stageIters: 2 },
        s3: { warmup: 0, iters: 1 },
        cold: { runs: 1, prime: 0, rssRepeat: 2 },
        pytorch: { warmup: 1, iters: 3, e2eWarmup: 0, e2eIters: 1 },
        wasm: { warmup: 1, iters: 3, threads: [1, 2] },
      }
    : {
        model: { warmup: 10, iters: 100, batches: [1, 4, 16], throughputMinMs: 3000, throughputMinIters: 5 },
        floor: { size: 1024, warmup: 2, minMs: 3000, minIters: 5 },
        e2e: { warmup: 2, iters: 10, stageIters: 8 },
        s3: { warmup: 1, iters: 5 },
        cold: { runs: 3, prime: 1, rssRepeat: 5 },
        pytorch: { warmup: 5, iters: 50, e2eWarmup: 1, e2eIters: 5 },
        wasm: { warmup: 3, iters: 20, threads: [1, 2] },
      };
}

const t0 = Date.now();
function log(msg: string): void {
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

async function guard<T>(name: string, fn: () => Promise<T>): Promise<T | { skipped: string }> {
  try {
    return await fn();
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? String(e);
    log(`${name} failed: ${(e as Error).stack ?? msg}`);
    return { skipped: `failed: ${msg}` };
  }
}

/** A path relative to the repository when inside it, else absolute. */
function displayPath(p: string): string {
  const rel = path.relative(ROOT, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** bench/fixtures/matmul.onnx, generated with bench/make_matmul.py when missing. */
async function ensureMatmul(python: string): Promise<string> {
  const file = path.join(ROOT, 'bench', 'fixtures', 'matmul.onnx');
  if (existsSync(file) && existsSync(file.replace(/\.onnx$/, '.json'))) return file;
  log('generating bench/fixtures/matmul.onnx with bench/make_matmul.py');
  const r = await runChild(python, ['bench/make_matmul.py'], { cwd: ROOT, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`bench/make_matmul.py failed: ${r.stderr.trim()}`);
  return file;
}

interface Options {
  readonly quick: boolean;
  readonly modelPath: string;
  readonly outDir: string;
  readonly threads: number;
  readonly skip: ReadonlySet<string>;
  readonly fullres: string;
  readonly python: string;
}

/** The command line, checked; null after --help. */
function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      model: { type: 'string', default: path.join('models', 'lesion-mtl.onnx') },
      out: { type: 'string', default: path.join('docs', 'benchmarks') },
      threads: { type: 'string', default: '2' },
      skip: { type: 'string', default: '' },
      fullres: {
        type: 'string',
        default: path.join(ROOT, '..', 'shared', 'data', 'isic2017_fullres_samples'),
      },
      python: { type: 'string', default: '/usr/bin/python3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  const skip = new Set(values.skip.split(',').filter(Boolean));
  for (const s of skip) {
    if (!(SECTIONS as readonly string[]).includes(s))
      throw new Error(`--skip ${s}: expected some of ${SECTIONS.join(', ')}`);
  }
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`--threads ${values.threads}: expected an integer >= 1`);
  const modelPath = path.resolve(values.model);
  if (!existsSync(modelPath)) {
    throw new Error(`no model at ${modelPath}: train and export one, or pass --model (e.g. a smoke model)`);
  }
  return {
    quick: values.quick,
    modelPath,
    outDir: path.resolve(values.out),
    threads,
    skip,
    fullres: path.resolve(values.fullres),
    python: values.python,
  };
}

type Settings = ReturnType<typeof settingsFor>;
type LoadedModel = Awaited<ReturnType<typeof loadModelFiles>>;

/** What every section reads: options, iteration counts, the model, the images. */
interface Bench {
  readonly opts: Options;
  readonly S: Settings;
  readonly loaded: LoadedModel;
  readonly results: BenchResults;
  readonly images: readonly BenchImage[];
  readonly skippedImages: readonly SkippedRow[];
  readonly samplePixels: Uint8Array;
  readonly config: ReturnType<typeof loadConfig>;
}

/** The results object before any section ran: every section marked skipped until it runs. */
async function newResults(opts: Options, S: Settings, loaded: LoadedModel): Promise<BenchResults> {
  const sidecar = JSON.parse(await readFile(opts.modelPath.replace(/\.onnx$/, '') + '.json', 'utf8')) as {
    architecture?: { flops?: number };
  };
  const sidecarFlops = sidecar.architecture?.flops;
  return {
    schema: BENCH_SCHEMA,
    createdAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    settings: { quick: opts.quick, threads: opts.threads, skip: [...opts.skip], ...S },
    machine: machineInfo(ROOT),
    model: {
      path: displayPath(opts.modelPath),
      name: loaded.contract.name,
      version: loaded.contract.version,
      sha256: loaded.contract.sha256,
      inputWidth: loaded.contract.input.width,
      inputHeight: loaded.contract.input.height,
      fileBytes: (await stat(opts.modelPath)).size,
      flops: typeof sidecarFlops === 'number' ? sidecarFlops : null,
      flopsSource: typeof sidecarFlops === 'number' ? 'sidecar architecture.flops' : null,
    },
    modelOnly: { skipped: '--skip model' },
    floor: { skipped: '--skip floor' },
    e2e: { skipped: '--skip e2e' },
    coldStart: { skipped: '--skip cold' },
    memory: [],
    pytorch: { skipped: '--skip pytorch' },
    wasm: { skipped: '--skip wasm' },
    gpu: { skipped: '--skip gpu' },
    ratios: {
      pytorchOverNodeModel: null,
      pytorchOverNodeE2e: {},
      wasmOverNode: {},
      modelOverFloor: null,
      e2e1024OverModel: null,
      e2e1024Image: null,
    },
    notes: [],
    durationSeconds: 0,
  };
}

/** 3. End to end per image, in process, then the same through a local S3 server. */
async function runE2e(b: Bench): Promise<(E2eRow | SkippedRow)[]> {
  const analyzer = await LesionAnalyzer.create({ config: b.config });
  const rows: (E2eRow | SkippedRow)[] = [];
  try {
    for (const image of b.images) {
      log(`3. end to end: ${image.label}`);
      rows.push(await benchE2e(analyzer, image, b.S.e2e));
    }
    const s3 = !b.opts.skip.has('s3')
      ? await guard('S3 start', () => S3Bench.start(analyzer))
      : { skipped: '--skip s3' };
    if (!isSkipped(s3)) {
      try {
        for (const row of rows as E2eRow[]) {
          log(`3. S3 round trip: ${row.image.label}`);
          row.s3 = await guard('S3', () => s3.run(row.image, b.S.s3.iters, b.S.s3.warmup));
        }
      } finally {
        await s3.stop();
      }
    } else {
      for (const row of rows as E2eRow[]) row.s3 = s3;
    }
  } finally {
    await analyzer.dispose();
  }
  rows.push(...b.skippedImages);
  return rows;
}

/** 6b. onnxruntime-web (wasm) at each thread count. */
async function runWasm(b: Bench) {
  const rows = [];
  for (const t of b.S.wasm.threads) {
    log(`6b. onnxruntime-web wasm, numThreads ${t}`);
    rows.push(
      await benchWasm(ROOT, {
        model: b.opts.modelPath,
        threads: t,
        warmup: b.S.wasm.warmup,
        iters: b.S.wasm.iters,
        timeoutMs: 300_000,
      }),
    );
  }
  return rows;
}

/** 4. Cold starts (CLI bundled and from sources, the Lambda-like bundle), then 5. peak RSS. */
async function runColdAndMemory(b: Bench): Promise<void> {
  const { results, S, opts } = b;
  const big = [...b.images].reverse().find((i) => i.target === '4288x2848') ?? b.images.at(-1)!;
  const small = b.images[0]!;
  results.coldStart = await guard('cold start', async () => {
    await buildCli(); // bin/lesion.js then runs dist/lesion-cli.mjs, as after `npm run build:cli`
    const bundle = await bundleColdStart(ROOT);
    if (isSkipped(bundle)) results.notes.push(`bundled cold-start variant skipped: ${bundle.skipped}`);
    const out = [];
    for (const v of coldVariants({
      model: opts.modelPath,
      threads: opts.threads,
      big,
      small,
      bundle: isSkipped(bundle) ? null : bundle.path,
    })) {
      log(`4. cold start: ${v.name}`);
      out.push(await benchColdStart(ROOT, v, { runs: S.cold.runs, prime: S.cold.prime, timeoutMs: 180_000 }));
    }
    return out;
  });
  if (isSkipped(results.coldStart)) return;
  const mem: RssRow[] = results.coldStart
    .filter((c) => c.maxRssKiB.length > 0)
    .map((c) => ({
      name: `${c.name} (cold, one image)`,
      image: c.image,
      maxRssMiB: Math.max(...c.maxRssKiB) / 1024,
    }));
  log(`5. peak RSS: ${big.label} x${S.cold.rssRepeat} in one process`);
  const rss = await guard('peak RSS', () =>
    peakRssRepeated(ROOT, {
      model: opts.modelPath,
      threads: opts.threads,
      image: big,
      repeat: S.cold.rssRepeat,
      timeoutMs: 180_000,
    }),
  );
  if (typeof rss === 'number') {
    mem.push({
      name: `minimal script, ${S.cold.rssRepeat} analyses in one process`,
      image: big.label,
      maxRssMiB: rss / 1024,
    });
  } else results.notes.push(`repeated peak-RSS run ${rss.skipped}`);
  results.memory = mem;
}

/** 7. The model on the CUDA provider, where this machine has one. */
async function runGpu(b: Bench): Promise<BenchResults['gpu']> {
  const blocker = gpuBlocker();
  if (blocker) return { skipped: blocker };
  log('7. GPU (CUDA provider)');
  return guard('GPU', () =>
    benchModelOnly(b.loaded, b.samplePixels, {
      ...b.S.model,
      threads: b.opts.threads,
      provider: 'cuda',
      batches: [1, 16, 64],
    }),
  );
}

/** Every section not skipped, in the report's order. */
async function runSections(b: Bench): Promise<void> {
  const { results, opts, S } = b;
  const run = (s: Section) => !opts.skip.has(s);
  if (run('model')) {
    log(`1. model only (threads ${opts.threads})`);
    results.modelOnly = await guard('model only', () =>
      benchModelOnly(b.loaded, b.samplePixels, { threads: opts.threads, ...S.model }),
    );
  }
  if (run('floor')) {
    log('2. FLOP floor (MatMul)');
    results.floor = await guard('floor', async () =>
      benchFloor({ matmulPath: await ensureMatmul(opts.python), threads: opts.threads, ...S.floor }),
    );
  }
  if (run('e2e')) results.e2e = await guard('end to end', () => runE2e(b));
  if (run('pytorch')) {
    log('6a. PyTorch eager anchor');
    results.pytorch = await guard('pytorch', () =>
      benchPytorch(ROOT, {
        python: opts.python,
        sidecar: opts.modelPath.replace(/\.onnx$/, '') + '.json',
        images: b.images,
        threads: opts.threads,
        ...S.pytorch,
        timeoutMs: 600_000,
      }),
    );
  }
  if (run('wasm')) results.wasm = await runWasm(b);
  if (run('cold')) await runColdAndMemory(b);
  if (run('gpu')) results.gpu = await runGpu(b);
}

async function main(): Promise<void> {
  const opts = parseOptions();
  if (!opts) return;
  const S = settingsFor(opts.quick);
  const loaded = await loadModelFiles(opts.modelPath);
  const results = await newResults(opts, S, loaded);
  const { machine } = results;
  log(`${machine.cpuModel}, ${machine.logicalCores} cores, load ${machine.loadAverageStart.join(' ')}`);

  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'lesion-bench-'));
  try {
    const samplePath = path.join(ROOT, 'samples', 'ISIC_0012099.jpg');
    const set = await prepareImages({ samplePath, fullresDir: opts.fullres, tmpDir });
    results.notes.push(...set.notes);
    const config = loadConfig(process.env, {
      modelPath: opts.modelPath,
      executionProvider: 'cpu',
      intraOpThreads: opts.threads,
    });
    const size = { width: loaded.contract.input.width, height: loaded.contract.input.height };
    const samplePixels = (await decodeImage(await readFile(samplePath), config, size)).modelInput.data;
    const bench: Bench = {
      opts,
      S,
      loaded,
      results,
      images: set.images,
      skippedImages: set.skipped,
      samplePixels,
      config,
    };
    await runSections(bench);
    finish(results, set.images);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  results.machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  results.durationSeconds = (Date.now() - t0) / 1000;
  await mkdir(opts.outDir, { recursive: true });
  await writeFile(path.join(opts.outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(path.join(opts.outDir, 'latest.md'), renderMarkdown(results));
  log(`wrote ${displayPath(path.join(opts.outDir, 'latest.json'))} and latest.md`);
}

/** FLOPs fallback, the floor's model figures, the ratios and the standing caveats. */
function finish(results: BenchResults, images: readonly BenchImage[]): void {
  const { notes } = results;
  const pt = isSkipped(results.pytorch) ? null : results.pytorch;
  if (results.model.flops === null && pt?.flops) {
    results.model.flops = pt.flops;
    results.model.flopsSource = 'counted by bench/pytorch_baseline.py (export.count_flops)';
  }
  const mo = isSkipped(results.modelOnly) ? null : results.modelOnly;
  const nodeP50 = mo?.latency.p50 ?? null;
  if (!isSkipped(results.floor)) results.floor = applyFloor(results.floor, results.model.flops, nodeP50);
  const rows = isSkipped(results.e2e) ? [] : results.e2e.filter((r): r is E2eRow => 'analyze' in r);
  const r1024 = rows.find((r) => r.image.target === '1024x768');
  const ratios: Ratios = {
    pytorchOverNodeModel: ratio(pt?.modelOnly.p50, nodeP50),
    pytorchOverNodeE2e: {},
    wasmOverNode: {},
    modelOverFloor: isSkipped(results.floor) ? null : results.floor.modelVsFloor,
    e2e1024OverModel: ratio(r1024?.analyze.p50, nodeP50),
    e2e1024Image: r1024?.image.label ?? null,
  };
  for (const img of pt?.images ?? []) {
    const node = rows.find((r) => r.image.label === img.label);
    ratios.pytorchOverNodeE2e[img.label] = ratio(img.stages.total.p50, node?.analyze.p50);
  }
  if (!isSkipped(results.wasm)) {
    for (const w of results.wasm) {
      ratios.wasmOverNode[String(w.threadsRequested)] = isSkipped(w) ? null : ratio(w.latency.p50, nodeP50);
    }
  }
  results.ratios = ratios;
  const load = results.machine.loadAverageStart[0] ?? 0;
  if (load > results.machine.availableParallelism * 0.5) {
    notes.push(
      `The 1-minute load average was ${load} on ${results.machine.availableParallelism} cores when the run started: ` +
        'other work shared the CPU, so absolute times are inflated and noisy.',
    );
  }
  notes.push(
    'Each figure is a p50 (median) unless marked p95; ratios divide p50s measured in this same run.',
  );
  if (images.some((i) => i.kind === 'synthetic')) {
    notes.push(
      'Synthetic rows are the 256x192 sample upscaled with sharp (Lanczos) and saved as quality-90 JPEG: smooth images, ' +
        'so their JPEGs are smaller and decode faster than real photos of the same size; resize, upsample and PNG costs ' +
        'scale with pixels and are representative.',
    );
  }
  if (pt) {
    notes.push(
      'The PyTorch anchor uses random weights (speed only) and the same network class and architecture settings as the ONNX model.',
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n\n${USAGE}`);
  process.exitCode = 1;
});
