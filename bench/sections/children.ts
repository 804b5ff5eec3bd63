// Sections that run in child processes: 4. cold start, 5. peak RSS, 6. PyTorch and wasm anchors.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleNodeEntry } from '../../scripts/bundle.js';
import { median } from '../lib/stats.js';
import { markedJson, runChild, type ChildResult } from '../lib/timing.js';
import type { BenchImage, ColdStartResult, PytorchResult, Skipped, WasmResult } from '../lib/types.js';

const RESULT_MARKER = 'BENCH_RESULT ';
const RSS_MARKER = 'BENCH_RSS ';

function childFailure(what: string, r: ChildResult): Error {
  const tail = (r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n');
  return new Error(`${what} ${r.timedOut ? 'timed out' : `exited with ${r.code ?? r.signal}`}:\n${tail}`);
}

export interface ColdVariant {
  readonly name: string;
  /** Shown in the report. */
  readonly display: string;
  readonly args: (outDir: string) => string[];
  readonly image: BenchImage;
  /** The stdout line prefix that marks "first result" (else spawn → exit is used). */
  readonly marker?: string;
}

/**
 * Spawn `node <args>` `runs` times (after `prime` discarded runs that warm the page cache and
 * tsx's transpile cache) and time spawn → first result. Each child is preloaded with
 * bench/exit-rss.js, which reports its peak RSS on exit.
 */
export async function benchColdStart(
  root: string,
  v: ColdVariant,
  opts: { runs: number; prime: number; timeoutMs: number },
): Promise<ColdStartResult> {
  const wall: number[] = [];
  const rss: number[] = [];
  const phases: Record<string, number[]> = {};
  for (let i = 0; i < opts.prime + opts.runs; i++) {
    const outDir = await mkdtemp(path.join(tmpdir(), 'lesion-bench-cold-'));
    try {
      const args = ['--import', './bench/exit-rss.js', ...v.args(outDir)];
      const r = await runChild(process.execPath, args, {
        cwd: root,
        timeoutMs: opts.timeoutMs,
        marker: v.marker,
      });
      if (r.code !== 0) throw childFailure(`cold start '${v.name}'`, r);
      if (i < opts.prime) continue;
      wall.push(v.marker ? (r.markerMs ?? r.wallMs) : r.wallMs);
      const m = markedJson<{ maxRssKiB: number }>(r.stderr, RSS_MARKER);
      if (m) rss.push(m.maxRssKiB);
      const res = v.marker ? markedJson<{ phasesMs?: Record<string, number> }>(r.stdout, v.marker) : null;
      for (const [k, ms] of Object.entries(res?.phasesMs ?? {})) (phases[k] ??= []).push(ms);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }
  const phasesMs = Object.fromEntries(Object.entries(phases).map(([k, xs]) => [k, median(xs)]));
  return {
    name: v.name,
    command: `node ${v.args('<tmp>').join(' ')}`.split(root + path.sep).join(''),
    image: v.image.label,
    runs: wall,
    medianMs: median(wall),
    ...(Object.keys(phasesMs).length ? { phasesMs } : {}),
    maxRssKiB: rss,
    primed: opts.prime > 0,
  };
}

/**
 * The cold-start variants: the CLI on the big image (bundled, as after `npm run build:cli`, and
 * through tsx), the minimal script (tsx, and bundled).
 */
export function coldVariants(opts: {
  model: string;
  threads: number;
  big: BenchImage;
  small: BenchImage;
  bundle: string | null;
}): ColdVariant[] {
  const t = String(opts.threads);
  const minimal = (entry: string[], image: BenchImage) => (_out: string) => [
    ...entry,
    '--model',
    opts.model,
    '--image',
    image.path,
    '--threads',
    t,
  ];
  const cliArgs = (outDir: string) => [
    'analyze',
    opts.big.path,
    '--out',
    outDir,
    '--model',
    opts.model,
    '--provider',
    'cpu',
    '--threads',
    t,
    '--json',
  ];
  const out: ColdVariant[] = [
    {
      name: 'cli-analyze-big',
      display: `bin/lesion.js analyze (${opts.big.label}) --json, running the fresh dist/lesion-cli.mjs bundle`,
      image: opts.big,
      args: (outDir) => ['bin/lesion.js', ...cliArgs(outDir)],
    },
    {
      name: 'cli-analyze-big-tsx',
      display: `the same CLI from its TypeScript sources through tsx (no \`npm run build:cli\`)`,
      image: opts.big,
      args: (outDir) => ['--import', 'tsx', 'src/cli/main.ts', ...cliArgs(outDir)],
    },
    {
      name: 'minimal-tsx-small',
      display: `bench/child/cold-start.ts through tsx (${opts.small.label})`,
      image: opts.small,
      marker: RESULT_MARKER,
      args: minimal(['--import', 'tsx', 'bench/child/cold-start.ts'], opts.small),
    },
  ];
  if (opts.bundle) {
    out.push({
      name: 'minimal-bundled-small',
      display: `the same script bundled by esbuild, as the Lambda is (${opts.small.label})`,
      image: opts.small,
      marker: RESULT_MARKER,
      args: minimal([opts.bundle], opts.small),
    });
  }
  return out;
}

/**
 * Bundle bench/child/cold-start.ts the way the CLI bundle is built (scripts/bundle.ts), into
 * node_modules/.cache/lesion-bench/ so the externals resolve from the project's node_modules.
 * Skipped when esbuild cannot be loaded.
 */
export async function bundleColdStart(root: string): Promise<{ path: string } | Skipped> {
  const outfile = path.join(root, 'node_modules', '.cache', 'lesion-bench', 'cold-start.mjs');
  try {
    await bundleNodeEntry(path.join(root, 'bench', 'child', 'cold-start.ts'), outfile);
  } catch (e) {
    return { skipped: `esbuild bundle failed (${(e as Error).message})` };
  }
  return { path: outfile };
}

/** One child that analyses the big image `repeat` times: steady-state peak RSS. */
export async function peakRssRepeated(
  root: string,
  opts: { model: string; threads: number; image: BenchImage; repeat: number; timeoutMs: number },
): Promise<number> {
  const args = [
    '--import',
    'tsx',
    'bench/child/cold-start.ts',
    '--model',
    opts.model,
    '--image',
    opts.image.path,
    '--threads',
    String(opts.threads),
    '--repeat',
    String(opts.repeat),
  ];
  const r = await runChild(process.execPath, args, { cwd: root, timeoutMs: opts.timeoutMs });
  const res = markedJson<{ maxRssKiB: number }>(r.stdout, RESULT_MARKER);
  if (r.code !== 0 || !res) throw childFailure('peak RSS child', r);
  return res.maxRssKiB;
}

interface PyImage {
  readonly path: string;
  readonly stages: PytorchResult['images'][number]['stages'];
}

/** bench/pytorch_baseline.py under /usr/bin/python3 (Debian torch): model-only and end to end per image. */
export async function benchPytorch(
  root: string,
  opts: {
    python: string;
    sidecar: string;
    images: readonly BenchImage[];
    threads: number;
    warmup: number;
    iters: number;
    e2eWarmup: number;
    e2eIters: number;
    timeoutMs: number;
  },
): Promise<PytorchResult | Skipped> {
  if (!existsSync(opts.python)) return { skipped: `${opts.python} not found` };
  const args = [
    'bench/pytorch_baseline.py',
    '--sidecar',
    opts.sidecar,
    '--threads',
    String(opts.threads),
    '--warmup',
    String(opts.warmup),
    '--iters',
    String(opts.iters),
    '--e2e-warmup',
    String(opts.e2eWarmup),
    '--e2e-iters',
    String(opts.e2eIters),
    ...opts.images.flatMap((i) => ['--image', i.path]),
  ];
  const env = {
    ...process.env,
    OMP_NUM_THREADS: String(opts.threads),
    MKL_NUM_THREADS: String(opts.threads),
  };
  const r = await runChild(opts.python, args, { cwd: root, env, timeoutMs: opts.timeoutMs });
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-3).join(' / ');
    return { skipped: `pytorch_baseline.py ${r.timedOut ? 'timed out' : `failed (${r.code})`}: ${tail}` };
  }
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const raw = JSON.parse(line) as Omit<PytorchResult, 'images'> & { images: PyImage[] };
  return {
    ...raw,
    images: raw.images.map((img, i) => ({ ...img, label: opts.images[i]!.label })),
  };
}

/** onnxruntime-web (wasm) batch-1 latency in a fresh Node process per thread count. */
export async function benchWasm(
  root: string,
  opts: { model: string; threads: number; warmup: number; iters: number; timeoutMs: number },
): Promise<WasmResult | (Skipped & { threadsRequested: number })> {
  const args = [
    '--import',
    'tsx',
    'bench/child/wasm.ts',
    '--model',
    opts.model,
    '--threads',
    String(opts.threads),
    '--warmup',
    String(opts.warmup),
    '--iters',
    String(opts.iters),
  ];
  const r = await runChild(process.execPath, args, { cwd: root, timeoutMs: opts.timeoutMs });
  const res = markedJson<WasmResult>(r.stdout, RESULT_MARKER);
  if (r.code !== 0 || !res) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
    return {
      threadsRequested: opts.threads,
      skipped: `${r.timedOut ? 'timed out' : `failed (${r.code})`}: ${tail}`,
    };
  }
  return res;
}
