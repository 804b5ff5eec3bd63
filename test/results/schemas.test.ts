/**
 * schemas/result.v1.schema.json and error.v1.schema.json against the TypeScript types they
 * describe (src/results/result.ts): enums and constants must not drift, and documents built
 * with the types must validate.
 */
import { ErrorCode } from '../../src/errors.js';
import { SUPPORTED_FORMATS } from '../../src/image/decode.js';
import { RESULT_SCHEMA_VERSION } from '../../src/results/result.js';
import { QualityFlag } from '../../src/processing/quality.js';
import { exampleError, exampleResult } from '../helpers/results.js';
import { errorSchemaErrors, readSchema, resultSchemaErrors } from '../helpers/schema.js';

type Json = Record<string, unknown>;
const at = (o: unknown, ...p: string[]): Json => p.reduce((x, k) => (x as Json)[k], o) as Json;

const result = exampleResult;
const error = exampleError;

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
    expect(
      errorSchemaErrors({ ...error, model: result.model, image: { ...error.image, bytes: 10 } }),
    ).toEqual([]);
  });

  it('accepts retryable errors (a transient failure that outlasted every delivery), rejects unknown codes', () => {
    const transient = { ...error.error, code: 'STORAGE_UNAVAILABLE', retryable: true };
    expect(errorSchemaErrors({ ...error, error: transient })).toEqual([]);
    // an input problem is never retryable
    expect(errorSchemaErrors({ ...error, error: { ...error.error, retryable: true } })).toEqual([
      '/error/code must be equal to one of the allowed values',
      '/error must match "then" schema',
    ]);
    expect(errorSchemaErrors({ ...error, error: { ...error.error, retryable: 'yes' } })).toEqual([
      '/error/retryable must be boolean',
    ]);
    expect(errorSchemaErrors({ ...error, error: { ...error.error, code: 'OOPS' } })).toEqual([
      '/error/code must be equal to one of the allowed values',
    ]);
    expect(errorSchemaErrors({ ...error, extra: 1 })).toEqual(['/ must NOT have additional properties']);
  });
});
