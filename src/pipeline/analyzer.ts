import { performance } from 'node:perf_hooks';
import type { LesionConfig } from '../config.js';
import { loadConfig } from '../config.js';
import { isLesionError, type LesionError } from '../errors.js';
import { decodeImage, type DecodedImage } from '../image/decode.js';
import { encodeMaskPng, encodeOverlayJpeg } from '../image/encode.js';
import { createLesionSession, type LesionSession, type ModelOutputs } from '../inference/session.js';
import { loadModelFiles, type ModelContract } from '../model/contract.js';
import { classify } from '../processing/classify.js';
import {
  cleanProbabilities,
  logitsToProbabilityBytes,
  maskStats,
  rotate90ccw,
  scaleBox,
  upsampleBinary,
  type Plane,
} from '../processing/mask.js';
import {
  BLOCKING_FLAGS,
  colourStatistics,
  imageStatistics,
  qualityFlags,
  type QualityThresholds,
} from '../processing/quality.js';
import { DEFAULT_QUALITY_THRESHOLDS } from '../processing/quality.js';
import type { AnalysisResult, ClassOutcome, ModelInfo } from '../results/result.js';
import { RESULT_SCHEMA_VERSION } from '../results/result.js';

/** Where an analysed image came from (its output keys are set by whoever stores the outputs). */
export interface AnalysisTarget {
  /** The image id (result.json's `image.id`): `imageIdFromKey` of the upload, a file name in the CLI. */
  readonly id: string;
  readonly bucket?: string | null;
  readonly key?: string | null;
}

/** Everything one image yields: the result JSON and the two PNGs. */
export interface LesionAnalysis {
  readonly result: AnalysisResult;
  readonly maskPng: Buffer;
  readonly overlayJpeg: Buffer;
}

/** The model's view of one image before encoding (used by `lesion eval`). */
export interface Prediction {
  readonly decoded: DecodedImage;
  /** Cleaned mask probability bytes at model size, in display orientation. */
  readonly probabilities: Plane;
  readonly scores: Float32Array;
  readonly oodScore: number | null;
}

export interface AnalyzerOptions {
  readonly config?: LesionConfig;
  readonly qualityThresholds?: QualityThresholds;
  /** Use an existing session (tests, the GPU worker's shared session). */
  readonly session?: LesionSession;
}

const elapsed = (t0: number) => Math.round((performance.now() - t0) * 100) / 100;

/**
 * decode → preprocess → infer → postprocess → encode, shared by the Lambda handler, the GPU
 * worker, the CLI and the local run. Holds one onnxruntime session.
 *
 * @example
 * const analyzer = await LesionAnalyzer.create();
 * const { result, maskPng } = await analyzer.analyze(bytes, { id: 'ISIC_0000000' });
 */
export class LesionAnalyzer {
  private constructor(
    readonly session: LesionSession,
    readonly config: LesionConfig,
    private readonly thresholds: QualityThresholds,
  ) {}

  static async create(opts: AnalyzerOptions = {}): Promise<LesionAnalyzer> {
    const config = opts.config ?? loadConfig();
    const session =
      opts.session ??
      (await createLesionSession(await loadModelFiles(config.modelPath), {
        executionProvider: config.executionProvider,
        intraOpThreads: config.intraOpThreads,
      }));
    return new LesionAnalyzer(session, config, opts.qualityThresholds ?? DEFAULT_QUALITY_THRESHOLDS);
  }

  get contract(): ModelContract {
    return this.session.contract;
  }

  /** The contract's mask threshold on the probability-byte scale (0.5 → 128). */
  private get maskThreshold(): number {
    return Math.round(this.contract.outputs.mask.threshold * 255);
  }

  get modelInfo(): ModelInfo {
    const c = this.contract;
    return { name: c.name, version: c.version, sha256: c.sha256, executionProvider: this.session.provider };
  }

  decode(bytes: Uint8Array): Promise<DecodedImage> {
    const { width, height } = this.contract.input;
    return decodeImage(bytes, this.config, { width, height });
  }

  /** One inference over decoded images (the batch is the GPU worker's lever). */
  async infer(images: readonly DecodedImage[]): Promise<Prediction[]> {
    if (images.length === 0) return [];
    const { width, height, channels } = this.contract.input;
    const per = width * height * channels;
    const batch = new Uint8Array(per * images.length);
    images.forEach((img, i) => batch.set(img.modelInput.data, i * per));
    const out = await this.session.run(batch, images.length);
    return images.map((img, i) => this.predictionAt(out, i, img));
  }

  private predictionAt(out: ModelOutputs, i: number, decoded: DecodedImage): Prediction {
    const hw = out.height * out.width;
    const logits = out.mask.subarray(i * hw, (i + 1) * hw);
    let prob: Plane = {
      data: logitsToProbabilityBytes(logits, this.contract.outputs.mask.kind),
      width: out.width,
      height: out.height,
    };
    if (decoded.rotatedForModel) prob = rotate90ccw(prob);
    prob = cleanProbabilities(prob, {
      threshold: this.maskThreshold,
      keepLargestComponent: this.config.keepLargestComponent,
      fillHoles: this.config.fillHoles,
    });
    const n = this.contract.classes.length;
    return {
      decoded,
      probabilities: prob,
      scores: out.scores.slice(i * n, (i + 1) * n),
      oodScore: out.oodScore ? out.oodScore[i]! : null,
    };
  }

  /** Binary mask (0/1) of a prediction at any size, e.g. a ground truth's resolution. */
  maskAt(p: Prediction, width: number, height: number): Plane {
    return upsampleBinary(p.probabilities, width, height, this.maskThreshold);
  }

  /** Postprocess + encode one prediction into the result JSON and PNGs. */
  async finish(
    p: Prediction,
    target: AnalysisTarget,
    bytes: number,
    timings: { decode: number; inference: number },
  ): Promise<LesionAnalysis> {
    const t0 = performance.now();
    const { decoded } = p;
    const threshold = this.maskThreshold;
    const preview = decoded.preview;
    const previewMask = upsampleBinary(p.probabilities, preview.width, preview.height, threshold);
    const stats = maskStats(previewMask);
    const img = imageStatistics(decoded.modelInput.data, decoded.modelInput.width, decoded.modelInput.height);
    const colour = colourStatistics(
      decoded.modelInput.data,
      decoded.modelInput.width,
      decoded.modelInput.height,
    );
    const oodThreshold = this.contract.outputs.oodScore?.threshold ?? null;
    const flags = qualityFlags(
      {
        stats: img,
        lesionAreaFraction: stats.areaFraction,
        lesionTouchesBorder: stats.touchesBorder,
        oodScore: p.oodScore,
        oodThreshold,
        colour: { colour, greyscaleSource: decoded.greyscaleSource },
      },
      this.thresholds,
    );
    const classes = classify(p.scores, this.contract.classes, this.contract.outputs.scores.kind);
    const outcome = (i: number): ClassOutcome => {
      const c = classes[i]!;
      return {
        probability: round(c.probability, 6),
        threshold: c.threshold,
        positive: c.positive,
        sensitivityAtThreshold: c.operatingPoint.sensitivity,
        specificityAtThreshold: c.operatingPoint.specificity,
      };
    };
    const withheldReasons = flags.filter((f) => BLOCKING_FLAGS.includes(f));
    const postprocess = elapsed(t0);
    const t1 = performance.now();
    const [maskPng, overlayJpeg] = await Promise.all([
      encodeMaskPng(p.probabilities, decoded.width, decoded.height, threshold),
      encodeOverlayJpeg(preview, previewMask),
    ]);
    const encode = elapsed(t1);
    const result: AnalysisResult = {
      schemaVersion: RESULT_SCHEMA_VERSION,
      status: 'ok',
      image: {
        id: target.id,
        bucket: target.bucket ?? null,
        key: target.key ?? null,
        bytes,
        format: decoded.format,
        width: decoded.width,
        height: decoded.height,
        exifOrientation: decoded.exifOrientation,
        conversions: decoded.conversions,
      },
      model: this.modelInfo,
      segmentation: {
        // where the outputs are stored is the caller's to say (process-uploads, the CLI)
        maskKey: null,
        overlayKey: null,
        lesionFound: stats.foregroundPixels > 0,
        areaFraction: round(stats.areaFraction, 6),
        boundingBox: stats.boundingBox
          ? scaleBox(stats.boundingBox, preview, { width: decoded.width, height: decoded.height })
          : null,
        touchesBorder: stats.touchesBorder,
      },
      classification: {
        melanoma: outcome(0),
        seborrheicKeratosis: outcome(1),
        withheld: withheldReasons.length > 0,
        withheldReasons,
      },
      quality: {
        flags,
        oodScore: p.oodScore === null ? null : round(p.oodScore, 4),
        oodThreshold,
        meanLuma: round(img.meanLuma, 2),
        laplacianVariance: round(img.laplacianVariance, 2),
        darkFraction: round(img.darkFraction, 4),
        brightFraction: round(img.brightFraction, 4),
        meanChroma: round(colour.meanChroma, 2),
        hueDegrees: round(colour.hueDegrees, 1),
        lesionHueDegrees: round(colour.darkHueDegrees, 1),
        greyscaleSource: decoded.greyscaleSource,
      },
      timingsMs: {
        decode: timings.decode,
        inference: timings.inference,
        postprocess,
        encode,
        total: round(timings.decode + timings.inference + postprocess + encode, 2),
      },
    };
    return { result, maskPng, overlayJpeg };
  }

  /**
   * Analyse a batch of encoded images with one inference. Each slot holds the analysis or the
   * typed error for that image (bad inputs never fail their neighbours).
   */
  async analyzeBatch(
    items: readonly { bytes: Uint8Array; target: AnalysisTarget }[],
  ): Promise<(LesionAnalysis | LesionError)[]> {
    const out: (LesionAnalysis | LesionError)[] = new Array(items.length);
    const decoded: { idx: number; img: DecodedImage; ms: number }[] = [];
    for (const [idx, item] of items.entries()) {
      const t0 = performance.now();
      try {
        decoded.push({ idx, img: await this.decode(item.bytes), ms: elapsed(t0) });
      } catch (e) {
        if (!isLesionError(e)) throw e;
        out[idx] = e;
      }
    }
    const t1 = performance.now();
    const preds = await this.infer(decoded.map((d) => d.img));
    const inference = elapsed(t1) / Math.max(1, decoded.length);
    await Promise.all(
      decoded.map(async (d, j) => {
        const item = items[d.idx]!;
        out[d.idx] = await this.finish(preds[j]!, item.target, item.bytes.length, {
          decode: d.ms,
          inference: round(inference, 2),
        });
      }),
    );
    return out;
  }

  /** Analyse one encoded image; throws the typed error for a bad input. */
  async analyze(bytes: Uint8Array, target: AnalysisTarget): Promise<LesionAnalysis> {
    const [r] = await this.analyzeBatch([{ bytes, target }]);
    if (r instanceof Error) throw r;
    return r!;
  }

  dispose(): Promise<void> {
    return this.session.dispose();
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

let shared: Promise<LesionAnalyzer> | null = null;

/**
 * One analyzer per process (container), created on first use; a failed load is evicted so the
 * next call retries instead of caching the failure.
 */
export function getSharedAnalyzer(opts: AnalyzerOptions = {}): Promise<LesionAnalyzer> {
  if (!shared) {
    shared = LesionAnalyzer.create(opts);
    shared.catch(() => {
      shared = null;
    });
  }
  return shared;
}
