import type { ErrorCode } from '../errors.js';
import type { BoundingBox } from '../processing/mask.js';
import type { QualityFlag } from '../processing/quality.js';

/** Version of result.json / error.json; schemas/result.v1.schema.json describes it. */
export const RESULT_SCHEMA_VERSION = '1.0.0';

export interface ModelInfo {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly executionProvider: 'cpu' | 'cuda';
}

export interface ImageInfo {
  /** The image id: stable, derived from the upload key (`imageIdFromKey`); results live under results/<image id>/. */
  readonly id: string;
  readonly bucket: string | null;
  readonly key: string | null;
  readonly bytes: number;
  readonly format: string;
  /** Displayed size (after EXIF orientation) = the mask's size. */
  readonly width: number;
  readonly height: number;
  readonly exifOrientation: number;
  readonly conversions: readonly string[];
}

export interface ClassOutcome {
  readonly probability: number;
  readonly threshold: number;
  readonly positive: boolean;
  readonly sensitivityAtThreshold: number;
  readonly specificityAtThreshold: number;
}

export interface AnalysisResult {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly status: 'ok';
  readonly image: ImageInfo;
  readonly model: ModelInfo;
  readonly segmentation: {
    readonly maskKey: string | null;
    readonly overlayKey: string | null;
    readonly lesionFound: boolean;
    /** Lesion pixels / image pixels. */
    readonly areaFraction: number;
    /** In original-image pixels; null when no lesion was found. */
    readonly boundingBox: BoundingBox | null;
    readonly touchesBorder: boolean;
  };
  readonly classification: {
    readonly melanoma: ClassOutcome;
    readonly seborrheicKeratosis: ClassOutcome;
    /** True when a blocking quality flag is set: computed, but not to be shown as a finding. */
    readonly withheld: boolean;
    readonly withheldReasons: readonly QualityFlag[];
  };
  readonly quality: {
    readonly flags: readonly QualityFlag[];
    readonly oodScore: number | null;
    readonly oodThreshold: number | null;
    readonly meanLuma: number;
    readonly laplacianVariance: number;
    readonly darkFraction: number;
    readonly brightFraction: number;
    /** Mean per-pixel chroma, max(R,G,B) − min(R,G,B), 0..255 (GREYSCALE below 2). */
    readonly meanChroma: number;
    /** Hue of the mean colour, degrees. */
    readonly hueDegrees: number;
    /** Hue of the darkest quarter's mean colour (mostly the lesion), degrees. */
    readonly lesionHueDegrees: number;
    /** The decoder saw a single-channel (greyscale) source. */
    readonly greyscaleSource: boolean;
  };
  readonly timingsMs: Readonly<Record<'decode' | 'inference' | 'postprocess' | 'encode' | 'total', number>>;
}

export interface ErrorResult {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly status: 'error';
  readonly image: Pick<ImageInfo, 'id' | 'bucket' | 'key'> & { readonly bytes: number | null };
  readonly error: {
    readonly code: ErrorCode;
    /** For a person: what is wrong and what to do. */
    readonly message: string;
    /**
     * false: the upload itself is unusable. true: a transient failure, not the image's fault (in
     * the pipeline: one that outlasted every delivery, the message is in the dead-letter queue);
     * running it again (a redrive, a new upload, the CLI again) may succeed.
     */
    readonly retryable: boolean;
  };
  readonly model: ModelInfo | null;
}

/** error.json for one upload (the S3 pipeline and the CLI write the same document). */
export function errorResult(
  image: ErrorResult['image'],
  error: ErrorResult['error'],
  model: ModelInfo | null,
): ErrorResult {
  return { schemaVersion: RESULT_SCHEMA_VERSION, status: 'error', image, error, model };
}
