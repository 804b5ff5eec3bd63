/** Hand-written results for the service tests (no model needed). */
import type { AnalysisResult, ErrorResult } from '../../src/results/result.js';
import { RESULT_SCHEMA_VERSION } from '../../src/results/result.js';
import type { QualityFlag } from '../../src/processing/quality.js';

export const MODEL = {
  name: 'lesion-mtl',
  version: '1.2.0',
  sha256: '5618a536d085a7433eeacb530ecfc436da29d7f05c9019ad98526d532e55ef71',
  executionProvider: 'cpu',
} as const;

/** A normal result: melanoma above its threshold, SK below, no flags. */
export function okResult(
  id = 'ISIC_0012099.jpg',
  o: { flags?: QualityFlag[]; withheldReasons?: QualityFlag[] } = {},
): AnalysisResult {
  const withheldReasons = o.withheldReasons ?? [];
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    status: 'ok',
    image: {
      id,
      bucket: 'lesion-uploads',
      key: `uploads/${id}`,
      bytes: 3849,
      format: 'jpeg',
      width: 256,
      height: 192,
      exifOrientation: 1,
      conversions: [],
    },
    model: MODEL,
    segmentation: {
      maskKey: `results/${id}/mask.png`,
      overlayKey: `results/${id}/overlay.jpg`,
      lesionFound: true,
      areaFraction: 0.183511,
      boundingBox: { x: 60, y: 40, width: 130, height: 110 },
      touchesBorder: false,
    },
    classification: {
      melanoma: {
        probability: 0.734512,
        threshold: 0.31,
        positive: true,
        sensitivityAtThreshold: 0.8933,
        specificityAtThreshold: 0.6083,
      },
      seborrheicKeratosis: {
        probability: 0.041,
        threshold: 0.22,
        positive: false,
        sensitivityAtThreshold: 0.9048,
        specificityAtThreshold: 0.7222,
      },
      withheld: withheldReasons.length > 0,
      withheldReasons,
    },
    quality: {
      flags: o.flags ?? withheldReasons,
      oodScore: 1.02,
      oodThreshold: 3.5,
      meanLuma: 141.2,
      laplacianVariance: 51.3,
      darkFraction: 0.01,
      brightFraction: 0.0,
      meanChroma: 42.5,
      hueDegrees: 19.3,
      lesionHueDegrees: 14.8,
      greyscaleSource: false,
    },
    timingsMs: { decode: 3.1, inference: 12.4, postprocess: 1.2, encode: 2.2, total: 18.9 },
  };
}

export function errorResult(id = 'broken.jpg'): ErrorResult {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    status: 'error',
    image: { id, bucket: 'lesion-uploads', key: `uploads/${id}`, bytes: 10 },
    error: {
      code: 'CORRUPT_IMAGE',
      message: 'The upload could not be decoded as an image.',
      retryable: false,
    },
    model: MODEL,
  };
}
