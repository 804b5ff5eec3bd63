/**
 * schemas/result.v1.schema.json and error.v1.schema.json against the TypeScript types they
 * describe (src/pipeline/result.ts): enums and constants must not drift, and documents built
 * with the types must validate.
 */
import { ErrorCode } from '../../src/errors.js';
import { SUPPORTED_FORMATS } from '../../src/image/decode.js';
import type { AnalysisResult, ErrorResult } from '../../src/pipeline/result.js';
import { RESULT_SCHEMA_VERSION } from '../../src/pipeline/result.js';
import { QualityFlag } from '../../src/processing/quality.js';
import { errorSchemaErrors, readSchema, resultSchemaErrors } from '../helpers/schema.js';

type Json = Record<string, unknown>;
const at = (o: unknown, ...p: string[]): Json => p.reduce((x, k) => (x as Json)[k], o) as Json;

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

/** A result built with the TypeScript type: every field the type allows. */
const result: AnalysisResult = {
  schemaVersion: RESULT_SCHEMA_VERSION,
  status: 'ok',
  image: {
    id: 'clinic_1/ISIC_1.jpg-0123456789',
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
  },
  timingsMs: { decode: 1, inference: 2, postprocess: 3, encode: 4, total: 10 },
};

const error: ErrorResult = {
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

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('result.v1.schema.json', () => {
  const schema = readSchema('result.v1.schema.json');

  it('has the code’s schema version, quality flags and formats', () => {
    expect(at(schema, 'properties', 'schemaVersion').const).toBe(RESULT_SCHEMA_VERSION);
    expect(at(schema, 'definitions', 'qualityFlag').enum).toEqual(Object.values(QualityFlag));
    expect(at(schema, 'properties', 'image', 'properties', 'format').enum).toEqual([...SUPPORTED_FORMATS]);
  });

  it('accepts a result built with the AnalysisResult type, and the nullable fields as null', () => {
    expect(resultSchemaErrors(result)).toEqual([]);
    const nulls = clone(result) as unknown as Json;
    Object.assign(at(nulls, 'image'), { bucket: null, key: null });
    Object.assign(at(nulls, 'segmentation'), {
      maskKey: null,
      overlayKey: null,
      boundingBox: null,
      lesionFound: false,
    });
    Object.assign(at(nulls, 'quality'), { oodScore: null, oodThreshold: null });
    expect(resultSchemaErrors(nulls)).toEqual([]);
  });

  it('rejects additional properties at every level', () => {
    for (const p of [
      [],
      ['image'],
      ['model'],
      ['segmentation'],
      ['segmentation', 'boundingBox'],
      ['classification'],
      ['classification', 'melanoma'],
      ['quality'],
      ['timingsMs'],
    ]) {
      const doc = clone(result) as unknown as Json;
      at(doc, ...p).surprise = true;
      expect(resultSchemaErrors(doc).length).toBeGreaterThan(0);
    }
  });

  it('rejects out-of-range values', () => {
    const bad = clone(result) as unknown as Json;
    at(bad, 'classification', 'melanoma').probability = 1.5;
    at(bad, 'quality').flags = ['SHINY'];
    at(bad, 'model').sha256 = 'xyz';
    at(bad, 'image').exifOrientation = 9;
    expect(resultSchemaErrors(bad)).toEqual([
      '/image/exifOrientation must be <= 8',
      '/model/sha256 must match pattern "^[0-9a-f]{64}$"',
      '/classification/melanoma/probability must be <= 1',
      '/quality/flags/0 must be equal to one of the allowed values',
    ]);
  });
});

describe('error.v1.schema.json', () => {
  const schema = readSchema('error.v1.schema.json');

  it('lists exactly the ErrorCode values', () => {
    expect(at(schema, 'properties', 'error', 'properties', 'code').enum).toEqual(Object.values(ErrorCode));
  });

  it('accepts an error built with the ErrorResult type, with or without model info', () => {
    expect(errorSchemaErrors(error)).toEqual([]);
    expect(errorSchemaErrors({ ...error, model, image: { ...error.image, bytes: 10 } })).toEqual([]);
  });

  it('accepts retryable errors (a transient failure that outlasted every delivery), rejects unknown codes', () => {
    expect(errorSchemaErrors({ ...error, error: { ...error.error, retryable: true } })).toEqual([]);
    expect(errorSchemaErrors({ ...error, error: { ...error.error, retryable: 'yes' } })).toEqual([
      '/error/retryable must be boolean',
    ]);
    expect(errorSchemaErrors({ ...error, error: { ...error.error, code: 'OOPS' } })).toEqual([
      '/error/code must be equal to one of the allowed values',
    ]);
    expect(errorSchemaErrors({ ...error, extra: 1 })).toEqual(['/ must NOT have additional properties']);
  });
});
