// Example result.json / error.json documents built with the TypeScript types: every field the
// types allow (the schema tests validate them; the event tests derive events from them).
import type { AnalysisResult, ErrorResult } from '../../src/results/result.js';
import { RESULT_SCHEMA_VERSION } from '../../src/results/result.js';

const model = {
  name: 'lesion-mtl',
  version: '1.0.0',
  sha256: 'a'.repeat(64),
  executionProvider: 'cuda',
} as const;
const outcome = {
  probability: 0.7,
  threshold: 0.3,
  positive: true,
  sensitivityAtThreshold: 0.89,
  specificityAtThreshold: 0.6,
};

/** A result built with the TypeScript type: every field the type allows (classification withheld). */
export const exampleResult: AnalysisResult = {
  schemaVersion: RESULT_SCHEMA_VERSION,
  status: 'ok',
  image: {
    id: 'clinic_1/ISIC_1.jpg~0123456789',
    bucket: 'uploads-bucket',
    key: 'uploads/clinic 1/ISIC_1.jpg',
    bytes: 123_456,
    format: 'jpeg',
    width: 6000,
    height: 4000,
    exifOrientation: 6,
    conversions: ['exif orientation 6 applied'],
  },
  model,
  segmentation: {
    maskKey: 'results/x/mask.png',
    overlayKey: 'results/x/overlay.jpg',
    lesionFound: true,
    areaFraction: 0.25,
    boundingBox: { x: 0, y: 10, width: 100, height: 50 },
    touchesBorder: true,
  },
  classification: {
    melanoma: outcome,
    seborrheicKeratosis: { ...outcome, positive: false, probability: 0.1 },
    withheld: true,
    withheldReasons: ['BLURRED'],
  },
  quality: {
    flags: ['BLURRED', 'LESION_TOUCHES_BORDER'],
    oodScore: 1.2,
    oodThreshold: 3,
    meanLuma: 140,
    laplacianVariance: 2,
    darkFraction: 0,
    brightFraction: 0.01,
    meanChroma: 40,
    hueDegrees: 20,
    lesionHueDegrees: 15,
    greyscaleSource: false,
  },
  timingsMs: { decode: 1, inference: 2, postprocess: 3, encode: 4, total: 10 },
};

export const exampleError: ErrorResult = {
  schemaVersion: RESULT_SCHEMA_VERSION,
  status: 'error',
  image: { id: 'bad.jpg', bucket: 'b', key: 'uploads/bad.jpg', bytes: null },
  error: {
    code: 'CORRUPT_IMAGE',
    message: 'The JPEG file is damaged or truncated and cannot be decoded.',
    retryable: false,
  },
  model: null,
};
