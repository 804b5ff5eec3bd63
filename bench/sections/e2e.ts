// 3. End to end per image: LesionAnalyzer.analyze, a stage breakdown timed with the same src/
// functions the analyzer composes, and the S3 round trip through the local pipeline.
import { readFile } from 'node:fs/promises';
import { decodeImage, toModelInput } from '../../src/image/decode.js';
import { encodeMaskPng, encodeOverlayJpeg } from '../../src/image/encode.js';
import { LocalPipeline } from '../../src/local/pipeline.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import {
  cleanProbabilities,
  logitsToProbabilityBytes,
  rotate90ccw,
  upsampleBinary,
  type Plane,
} from '../../src/processing/mask.js';
import type { ObjectHead, ObjectStore } from '../../src/storage/s3.js';
import { summarize } from '../lib/stats.js';
import { now } from '../lib/timing.js';
import { STAGE_NAMES, type BenchImage, type E2eRow, type S3Result, type StageName } from '../lib/types.js';

export interface E2eOptions {
  readonly warmup: number;
  readonly iters: number;
  readonly stageIters: number;
}

type TimingKey = keyof E2eRow['timingsMs'];
const TIMING_KEYS: readonly TimingKey[] = ['decode', 'inference', 'postprocess', 'encode', 'total'];

/**
 * analyze() wall time and the analyzer's own result.timingsMs, then a separate pass timing each
 * stage on its own:
 * - decodeTotal: decodeImage (header checks + one sharp decode with shrink-on-load to the
 *   preview + the model-input resize); modelInputResize: toModelInput alone, so the sharp
 *   decode is decodeTotal - modelInputResize;
 * - sessionRun: onnxruntime alone; probsAndClean: logits → probability bytes, rotation,
 *   largest component + hole filling (the analyzer's predictionAt, replicated);
 * - finishPostprocess: result.timingsMs.postprocess of analyzer.finish (preview-size upsample,
 *   mask and image statistics, quality flags, classification); upsamplePreview: its upsample alone;
 * - maskPng (upsample to the original size + threshold + PNG) and overlayJpeg (outline + JPEG),
 *   each alone; encodeParallel: both together as finish runs them (its timingsMs.encode);
 * - resultJson: JSON.stringify of the result as the pipeline writes it.
 */
export async function benchE2e(
  analyzer: LesionAnalyzer,
  image: BenchImage,
  opts: E2eOptions,
): Promise<E2eRow> {
  const bytes = await readFile(image.path);
  const { width, height } = analyzer.contract.input;
  const threshold = Math.round(analyzer.contract.outputs.mask.threshold * 255);
  const target = { id: image.label };
  for (let i = 0; i < opts.warmup; i++) await analyzer.analyze(bytes, target);

  const wall: number[] = [];
  const timings: Record<TimingKey, number[]> = {
    decode: [],
    inference: [],
    postprocess: [],
    encode: [],
    total: [],
  };
  let outputs = { maskPngBytes: 0, overlayJpegBytes: 0, resultJsonBytes: 0 };
  for (let i = 0; i < opts.iters; i++) {
    const t0 = now();
    const a = await analyzer.analyze(bytes, target);
    wall.push(now() - t0);
    for (const k of TIMING_KEYS) timings[k].push(a.result.timingsMs[k]);
    outputs = {
      maskPngBytes: a.maskPng.length,
      overlayJpegBytes: a.overlayJpeg.length,
      resultJsonBytes: Buffer.byteLength(JSON.stringify(a.result, null, 2)),
    };
  }

  const stages = Object.fromEntries(STAGE_NAMES.map((s) => [s, [] as number[]])) as Record<
    StageName,
    number[]
  >;
  const lap = async <T>(stage: StageName, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = now();
    const out = await fn();
    stages[stage].push(now() - t0);
    return out;
  };
  for (let i = 0; i < opts.stageIters; i++) {
    const decoded = await lap('decodeTotal', () => decodeImage(bytes, analyzer.config, { width, height }));
    await lap('modelInputResize', () =>
      toModelInput(decoded.preview, { width, height }, decoded.rotatedForModel),
    );
    const out = await lap('sessionRun', () => analyzer.session.run(decoded.modelInput.data, 1));
    await lap('probsAndClean', () => {
      let prob: Plane = {
        data: logitsToProbabilityBytes(out.mask, analyzer.contract.outputs.mask.kind),
        width: out.width,
        height: out.height,
      };
      if (decoded.rotatedForModel) prob = rotate90ccw(prob);
      return cleanProbabilities(prob, {
        threshold,
        keepLargestComponent: analyzer.config.keepLargestComponent,
        fillHoles: analyzer.config.fillHoles,
      });
    });
    const [pred] = await analyzer.infer([decoded]);
    const fin = await analyzer.finish(pred!, target, bytes.length, { decode: 0, inference: 0 });
    stages.finishPostprocess.push(fin.result.timingsMs.postprocess);
    stages.encodeParallel.push(fin.result.timingsMs.encode);
    const { preview } = decoded;
    const previewMask = await lap('upsamplePreview', () =>
      upsampleBinary(pred!.probabilities, preview.width, preview.height, threshold),
    );
    await lap('maskPng', () => encodeMaskPng(pred!.probabilities, decoded.width, decoded.height, threshold));
    await lap('overlayJpeg', () => encodeOverlayJpeg(preview, previewMask));
    await lap('resultJson', () => JSON.stringify(fin.result, null, 2));
  }

  return {
    image,
    analyze: summarize(wall),
    timingsMs: Object.fromEntries(TIMING_KEYS.map((k) => [k, summarize(timings[k])])) as E2eRow['timingsMs'],
    stages: Object.fromEntries(STAGE_NAMES.map((s) => [s, summarize(stages[s])])) as E2eRow['stages'],
    outputs,
  };
}

interface Op {
  readonly op: 'head' | 'get' | 'put';
  readonly start: number;
  readonly end: number;
}

/** ObjectStore wrapper that records when each S3 call starts and ends. */
class TimedStore implements ObjectStore {
  ops: Op[] = [];
  constructor(private readonly inner: ObjectStore) {}

  private async timed<T>(op: Op['op'], fn: () => Promise<T>): Promise<T> {
    const start = now();
    try {
      return await fn();
    } finally {
      this.ops.push({ op, start, end: now() });
    }
  }

  head(bucket: string, key: string): Promise<ObjectHead | null> {
    return this.timed('head', () => this.inner.head(bucket, key));
  }

  get(bucket: string, key: string, maxBytes: number): Promise<Buffer> {
    return this.timed('get', () => this.inner.get(bucket, key, maxBytes));
  }

  put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void> {
    return this.timed('put', () => this.inner.put(bucket, key, body, contentType, metadata));
  }
}

/** An S3 round trip for benchmarking: one local s3rver (127.0.0.1) shared by all images. */
export class S3Bench {
  private constructor(
    private readonly pipeline: LocalPipeline,
    private readonly store: TimedStore,
  ) {}

  static async start(analyzer: LesionAnalyzer): Promise<S3Bench> {
    let timed: TimedStore | undefined;
    const pipeline = await LocalPipeline.start({
      analyzer,
      batchSize: 1,
      wrapStore: (s) => (timed = new TimedStore(s)),
    });
    return new S3Bench(pipeline, timed!);
  }

  /**
   * Upload the image under uploads/ (a new key each time: a repeated key would be a duplicate),
   * then drain the queue: HeadObject + GetObject of the upload, analysis, PutObject of the mask,
   * overlay, FHIR report and result.json, then the event marker, as the Lambda does.
   */
  async run(image: BenchImage, iters: number, warmup: number): Promise<S3Result> {
    const bytes = await readFile(image.path);
    const series = {
      uploadPut: [] as number[],
      getObject: [] as number[],
      heads: [] as number[],
      putsWall: [] as number[],
      pipeline: [] as number[],
    };
    let headCount = 0;
    let putCount = 0;
    for (let i = 0; i < warmup + iters; i++) {
      const key = `${this.pipeline.config.uploadsPrefix}bench-${Date.now()}-${i}.jpg`;
      const t0 = now();
      await this.pipeline.upload(key, bytes, 'image/jpeg');
      const uploadMs = now() - t0;
      for (let spins = 0; this.pipeline.pending === 0 && spins < 200; spins++)
        await new Promise((r) => setTimeout(r, 5));
      if (this.pipeline.pending === 0) throw new Error(`no ObjectCreated notification for ${key}`);
      this.store.ops = [];
      const before = this.pipeline.outcomes.length;
      const t1 = now();
      await this.pipeline.drain();
      const drainMs = now() - t1;
      const outcome = this.pipeline.outcomes.at(-1);
      if (this.pipeline.outcomes.length === before || outcome?.status !== 'ok') {
        throw new Error(`local pipeline did not analyse ${key}: ${JSON.stringify(outcome ?? null)}`);
      }
      if (i < warmup) continue;
      const ops = this.store.ops;
      const puts = ops.filter((o) => o.op === 'put');
      const heads = ops.filter((o) => o.op === 'head');
      series.uploadPut.push(uploadMs);
      series.getObject.push(ops.filter((o) => o.op === 'get').reduce((s, o) => s + o.end - o.start, 0));
      series.heads.push(heads.reduce((s, o) => s + o.end - o.start, 0));
      series.putsWall.push(
        puts.length ? Math.max(...puts.map((o) => o.end)) - Math.min(...puts.map((o) => o.start)) : 0,
      );
      series.pipeline.push(drainMs);
      headCount = heads.length;
      putCount = puts.length;
    }
    return {
      iters,
      uploadPut: summarize(series.uploadPut),
      getObject: summarize(series.getObject),
      heads: summarize(series.heads),
      headCount,
      putsWall: summarize(series.putsWall),
      putCount,
      pipeline: summarize(series.pipeline),
    };
  }

  stop(): Promise<void> {
    return this.pipeline.stop({ disposeAnalyzer: false });
  }
}
