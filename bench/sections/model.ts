// 1. Model only and 2. the FLOP floor: onnxruntime-node with a fixed intra-op thread count.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import '../../src/inference/no-telemetry.js'; // before onnxruntime-node: telemetry off
import * as ort from 'onnxruntime-node';
import { createLesionSession, cudaProviderInstalled } from '../../src/inference/session.js';
import type { LoadedModel } from '../../src/model/contract.js';
import { gflopsPerSecond, imagesPerSecond, ratio, summarize } from '../lib/stats.js';
import { now, timeFor, timeRuns } from '../lib/timing.js';
import type { FloorResult, ModelOnlyResult } from '../lib/types.js';

export interface ModelOnlyOptions {
  readonly threads: number;
  /** @default 'cpu' */
  readonly provider?: 'cpu' | 'cuda';
  readonly warmup: number;
  readonly iters: number;
  readonly batches: readonly number[];
  readonly throughputMinMs: number;
  readonly throughputMinIters: number;
}

/**
 * Batch-1 latency of session.run (uint8 NHWC in, the three outputs out: what the analyzer
 * calls), then images/s at each batch size, all through createLesionSession.
 * `pixels` is one model-size RGB image (the decoded sample), repeated to fill a batch.
 */
export async function benchModelOnly(
  model: LoadedModel,
  pixels: Uint8Array,
  opts: ModelOnlyOptions,
): Promise<ModelOnlyResult> {
  const t0 = now();
  const provider = opts.provider ?? 'cpu';
  const session = await createLesionSession(model, {
    executionProvider: provider,
    intraOpThreads: opts.threads,
  });
  const sessionCreateMs = now() - t0;
  if (session.provider !== provider) {
    await session.dispose();
    throw new Error(`asked for the ${provider} provider, onnxruntime gave ${session.provider}`);
  }
  try {
    const batchOf = (n: number) => {
      const out = new Uint8Array(pixels.length * n);
      for (let i = 0; i < n; i++) out.set(pixels, i * pixels.length);
      return out;
    };
    const one = batchOf(1);
    const latency = summarize(
      await timeRuns(() => session.run(one, 1), { warmup: opts.warmup, iters: opts.iters }),
    );
    const throughput = [];
    for (const b of opts.batches) {
      const input = batchOf(b);
      const runs = await timeFor(() => session.run(input, b), {
        warmup: Math.max(1, Math.ceil(opts.warmup / b)),
        minMs: opts.throughputMinMs,
        minIters: opts.throughputMinIters,
      });
      throughput.push({ batch: b, perRun: summarize(runs), imagesPerSecond: imagesPerSecond(b, runs) });
    }
    return { provider, threads: opts.threads, sessionCreateMs, latency, throughput };
  } finally {
    await session.dispose();
  }
}

export interface FloorOptions {
  readonly matmulPath: string;
  readonly threads: number;
  readonly size: number;
  readonly warmup: number;
  readonly minMs: number;
  readonly minIters: number;
}

/** Fill in the floor's model figures once the model's FLOPs and batch-1 latency are known. */
export function applyFloor(floor: FloorResult, flops: number | null, latencyP50: number | null): FloorResult {
  const modelFloorMs = flops ? flops / (floor.gflopsP50 * 1e6) : null;
  return { ...floor, modelFloorMs, modelVsFloor: ratio(latencyP50, modelFloorMs) };
}

/**
 * This machine's fp32 MatMul speed through onnxruntime-node with the same thread count as the
 * model: a chain of `repeats` [size x size] x [size x size] MatMuls (bench/fixtures/matmul.onnx),
 * 2·M·N·K FLOPs each. The floor is the model's FLOPs at that speed: a dense GEMM is the best
 * case for a CPU, so no model runs faster per FLOP than this.
 */
export async function benchFloor(opts: FloorOptions): Promise<FloorResult> {
  const sidecar = JSON.parse(await readFile(opts.matmulPath.replace(/\.onnx$/, '.json'), 'utf8')) as {
    repeats: number;
  };
  const session = await ort.InferenceSession.create(opts.matmulPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  try {
    const n = opts.size;
    const a = new Float32Array(n * n);
    const b = new Float32Array(n * n);
    // Entries of size ~1/sqrt(n): the chained products keep unit scale (no overflow, no denormals).
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff - 0.5;
    };
    const scale = Math.sqrt(12 / n);
    for (let i = 0; i < a.length; i++) a[i] = rand() * 2;
    for (let i = 0; i < b.length; i++) b[i] = rand() * scale;
    const feeds = { A: new ort.Tensor('float32', a, [n, n]), B: new ort.Tensor('float32', b, [n, n]) };
    const runs = await timeFor(() => session.run(feeds), {
      warmup: opts.warmup,
      minMs: opts.minMs,
      minIters: opts.minIters,
    });
    const flopsPerRun = sidecar.repeats * 2 * n * n * n;
    const perRun = summarize(runs);
    const gflopsP50 = gflopsPerSecond(flopsPerRun, perRun.p50);
    return {
      threads: opts.threads,
      m: n,
      k: n,
      repeats: sidecar.repeats,
      flopsPerRun,
      perRun,
      gflopsP50,
      gflopsBest: gflopsPerSecond(flopsPerRun, perRun.min),
      modelFloorMs: null,
      modelVsFloor: null,
    };
  } finally {
    await session.release();
  }
}

/**
 * Why the CUDA section cannot run here, or null when it can: onnxruntime-node's CUDA provider
 * library must be installed (the project's .npmrc skips its download) and a GPU present.
 */
export function gpuBlocker(): string | null {
  const reasons: string[] = [];
  if (!cudaProviderInstalled())
    reasons.push(
      "onnxruntime-node's CUDA provider (libonnxruntime_providers_cuda.so) is not installed — .npmrc sets " +
        'onnxruntime-node-install=skip; ../shared/STACK.md describes the offline install',
    );
  if (!existsSync('/dev/nvidia0')) reasons.push('this machine has no NVIDIA GPU (/dev/nvidia0 absent)');
  return reasons.length ? reasons.join('; ') : null;
}
