// The shape of docs/benchmarks/latest.json. All times are milliseconds unless named otherwise.
import type { Summary } from './stats.js';

export const BENCH_SCHEMA = 'lesion-mtl-bench/1';

export type Skipped = { readonly skipped: string };

export interface MachineInfo {
  readonly cpuModel: string;
  readonly logicalCores: number;
  readonly availableParallelism: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly onnxruntimeNode: string;
  readonly onnxruntimeWeb: string | null;
  readonly sharp: string;
  readonly libvips: string;
  readonly sharpConcurrency: number;
  readonly date: string;
  /** os.loadavg() [1, 5, 15 min] at the start and end of the run: other load skews every figure. */
  readonly loadAverageStart: readonly number[];
  loadAverageEnd?: readonly number[];
}

export interface ModelInfoBench {
  readonly path: string;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly fileBytes: number;
  /** FLOPs of one image (2 x multiply-accumulates), or null when unknown. */
  flops: number | null;
  flopsSource: string | null;
}

export interface ModelOnlyResult {
  readonly provider: 'cpu' | 'cuda';
  readonly threads: number;
  readonly sessionCreateMs: number;
  /** Batch-1 session.run latency after warm-up. */
  readonly latency: Summary;
  readonly throughput: readonly {
    readonly batch: number;
    readonly perRun: Summary;
    readonly imagesPerSecond: number;
  }[];
}

export interface FloorResult {
  readonly threads: number;
  readonly m: number;
  readonly k: number;
  readonly repeats: number;
  readonly flopsPerRun: number;
  readonly perRun: Summary;
  /** GFLOP/s at the median run and at the fastest run. */
  readonly gflopsP50: number;
  readonly gflopsBest: number;
  /** Model FLOPs / median-run GFLOP/s: the time the model would take at MatMul speed. */
  readonly modelFloorMs: number | null;
  /** Model batch-1 p50 latency / modelFloorMs. */
  readonly modelVsFloor: number | null;
}

export type ImageKind = 'sample' | 'real' | 'synthetic';

export interface BenchImage {
  readonly label: string;
  readonly kind: ImageKind;
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  /** The size this image stands for: 256x192, 1024x768 or 4288x2848. */
  readonly target: string;
}

export interface S3Result {
  readonly iters: number;
  /** Client PutObject of the upload (what the uploader pays, not the function). */
  readonly uploadPut: Summary;
  readonly getObject: Summary;
  /** Sum of the HeadObject calls of one message (upload + existing-result checks). */
  readonly heads: Summary;
  readonly headCount: number;
  /** First result PutObject start → last PutObject end (mask, overlay, FHIR in parallel; then result.json; then the event marker). */
  readonly putsWall: Summary;
  readonly putCount: number;
  /** drain() of one message: S3 reads + analysis + S3 writes + event. */
  readonly pipeline: Summary;
}

export interface E2eRow {
  readonly image: BenchImage;
  /** LesionAnalyzer.analyze wall time. */
  readonly analyze: Summary;
  /** result.timingsMs as the analyzer reports them (p50 over the analyze runs). */
  readonly timingsMs: Record<'decode' | 'inference' | 'postprocess' | 'encode' | 'total', Summary>;
  /** Finer stages, timed separately by the bench with the same src/ functions. */
  readonly stages: Record<StageName, Summary>;
  readonly outputs: {
    readonly maskPngBytes: number;
    readonly overlayJpegBytes: number;
    readonly resultJsonBytes: number;
  };
  s3?: S3Result | Skipped;
}

export const STAGE_NAMES = [
  'decodeTotal',
  'modelInputResize',
  'sessionRun',
  'probsAndClean',
  'finishPostprocess',
  'upsamplePreview',
  'maskPng',
  'overlayJpeg',
  'encodeParallel',
  'resultJson',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface SkippedRow {
  readonly label: string;
  readonly target: string;
  readonly skipped: string;
}

export interface ColdStartResult {
  readonly name: string;
  readonly command: string;
  readonly image: string;
  readonly runs: readonly number[];
  readonly medianMs: number;
  /** Inside the child: imports, model load, first analysis (medians), when the child reports them. */
  readonly phasesMs?: Record<string, number>;
  readonly maxRssKiB: readonly number[];
  readonly primed: boolean;
}

export interface RssRow {
  readonly name: string;
  readonly image: string;
  readonly maxRssMiB: number;
}

export interface PytorchResult {
  readonly torch: string;
  readonly python: string;
  readonly threads: number;
  readonly weights: string;
  readonly tta: string;
  readonly flops: number | null;
  readonly modelOnly: Summary;
  readonly images: readonly {
    readonly label: string;
    readonly path: string;
    readonly stages: Record<'decode' | 'resize' | 'inference' | 'postprocess' | 'encode' | 'total', Summary>;
  }[];
}

export interface WasmResult {
  readonly threadsRequested: number;
  readonly threadsReported: number;
  readonly sessionCreateMs: number;
  readonly latency: Summary;
  /** Process CPU time / wall time over the timed runs: ~1 = one core busy, ~2 = two. */
  readonly cpuPerWall: number;
}

export interface Ratios {
  /** PyTorch eager model-only p50 / onnxruntime-node batch-1 p50. */
  pytorchOverNodeModel: number | null;
  /** PyTorch end-to-end p50 / node analyze p50, per image label. */
  pytorchOverNodeE2e: Record<string, number | null>;
  /** onnxruntime-web (wasm) p50 / onnxruntime-node p50, per wasm thread count. */
  wasmOverNode: Record<string, number | null>;
  /** Node batch-1 p50 / FLOP floor. */
  modelOverFloor: number | null;
  /** analyze p50 at ~1024x768 / model-only batch-1 p50. */
  e2e1024OverModel: number | null;
  e2e1024Image: string | null;
}

export interface BenchResults {
  readonly schema: typeof BENCH_SCHEMA;
  readonly createdAt: string;
  readonly command: string;
  readonly settings: Record<string, unknown>;
  readonly machine: MachineInfo;
  readonly model: ModelInfoBench;
  modelOnly: ModelOnlyResult | Skipped;
  floor: FloorResult | Skipped;
  e2e: (E2eRow | SkippedRow)[] | Skipped;
  coldStart: ColdStartResult[] | Skipped;
  memory: RssRow[];
  pytorch: PytorchResult | Skipped;
  wasm: (WasmResult | (Skipped & { threadsRequested: number }))[] | Skipped;
  /** 7. The shipped model on the CUDA execution provider, or why it could not run. */
  gpu: ModelOnlyResult | Skipped;
  ratios: Ratios;
  readonly notes: string[];
  durationSeconds: number;
}

export function isSkipped(x: unknown): x is Skipped {
  return typeof x === 'object' && x !== null && 'skipped' in x;
}
