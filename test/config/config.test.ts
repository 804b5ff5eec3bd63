import path from 'node:path';
import { DEFAULT_CONFIG, DEFAULT_MODEL_PATH, ENV, loadConfig } from '../../src/config.js';
import { ConfigError, ErrorCode } from '../../src/errors.js';

/** The ConfigError thrown by fn (fails the test when nothing is thrown). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns the defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.modelPath).toBe(DEFAULT_MODEL_PATH);
    expect(DEFAULT_MODEL_PATH.endsWith(path.join('models', 'lesion-mtl.onnx'))).toBe(true);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ [ENV.maxPixels]: '', [ENV.executionProvider]: '', [ENV.fillHoles]: '' })).toEqual(
      DEFAULT_CONFIG,
    );
  });

  it('parses every variable', () => {
    const c = loadConfig({
      LESION_MODEL_PATH: 'models/other.onnx',
      LESION_EXECUTION_PROVIDER: 'cuda',
      LESION_INTRA_OP_THREADS: '0',
      LESION_MAX_PIXELS: '1000000',
      LESION_MAX_BYTES: '2048',
      LESION_MIN_SIDE: '64',
      LESION_MAX_ASPECT_RATIO: '2.5',
      LESION_MAX_JPEG_SCANS: '20',
      LESION_DECODE_TIMEOUT_MS: '0',
      LESION_UPLOADS_PREFIX: 'in',
      LESION_RESULTS_PREFIX: 'out/',
      LESION_RESULTS_BUCKET: 'results-bucket',
      LESION_OVERLAY_MAX_SIDE: '512',
      LESION_KEEP_LARGEST_COMPONENT: 'off',
      LESION_FILL_HOLES: 'YES',
      LESION_EVENT_BUS_NAME: 'bus',
      LESION_MAX_RECEIVE_COUNT: '5',
    });
    expect(c).toEqual({
      modelPath: path.resolve('models/other.onnx'), // relative paths resolve against the working directory
      executionProvider: 'cuda',
      intraOpThreads: 0,
      maxPixels: 1_000_000,
      maxBytes: 2048,
      minSide: 64,
      maxAspectRatio: 2.5,
      maxJpegScans: 20,
      decodeTimeoutMs: 0,
      uploadsPrefix: 'in/', // a missing trailing slash is added
      resultsPrefix: 'out/',
      resultsBucket: 'results-bucket',
      overlayMaxSide: 512,
      keepLargestComponent: false,
      fillHoles: true,
      eventBusName: 'bus',
      maxReceiveCount: 5,
    });
  });

  it("refuses a results prefix over 256 bytes (result keys must fit S3's 1,024)", () => {
    expect(loadConfig({ LESION_RESULTS_PREFIX: `${'r'.repeat(255)}/` }).resultsPrefix.length).toBe(256);
    expect(() => loadConfig({ LESION_RESULTS_PREFIX: `${'r'.repeat(256)}/` })).toThrow(
      /257 bytes: at most 256/,
    );
  });

  it('lets explicit overrides win over the environment', () => {
    expect(loadConfig({ LESION_MIN_SIDE: '64' }, { minSide: 16 }).minSide).toBe(16);
  });

  it.each([
    ['LESION_MIN_SIDE', 'abc', 'expected an integer >= 1'],
    ['LESION_MAX_PIXELS', '0', 'expected an integer >= 1'],
    ['LESION_MAX_BYTES', '1.5', 'expected an integer >= 1'],
    ['LESION_INTRA_OP_THREADS', '-1', 'expected an integer >= 0'],
    ['LESION_MAX_JPEG_SCANS', '0', 'expected an integer >= 1'],
    ['LESION_DECODE_TIMEOUT_MS', '2.5', 'expected an integer >= 0'],
    ['LESION_MAX_ASPECT_RATIO', '0.5', 'expected a number >= 1'],
    ['LESION_MAX_ASPECT_RATIO', 'Infinity', 'expected a number >= 1'],
    ['LESION_EXECUTION_PROVIDER', 'tpu', 'expected one of auto, cpu, cuda'],
    ['LESION_FILL_HOLES', 'maybe', 'expected true or false'],
    ['LESION_UPLOADS_PREFIX', '../uploads/', 'expected a relative key prefix'],
    ['LESION_RESULTS_PREFIX', '/results/', 'expected a relative key prefix'],
  ])('names the variable in the error for %s=%s', (name, value, expected) => {
    const e = configError(() => loadConfig({ [name]: value }));
    expect(e.message).toBe(`${name}=${value}: ${expected}`);
    expect(e.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(e.retryable).toBe(false);
  });

  it('rejects a results prefix under the uploads prefix (outputs would re-trigger the pipeline)', () => {
    const e = configError(() =>
      loadConfig({ LESION_UPLOADS_PREFIX: 'uploads/', LESION_RESULTS_PREFIX: 'uploads/results/' }),
    );
    expect(e.message).toContain(
      'LESION_RESULTS_PREFIX=uploads/results/ and LESION_UPLOADS_PREFIX=uploads/ overlap',
    );
  });

  it('rejects an uploads prefix under the results prefix (results/in/in/x.jpg → results/in/x.jpg/…)', () => {
    const e = configError(() =>
      loadConfig({ LESION_UPLOADS_PREFIX: 'results/in/', LESION_RESULTS_PREFIX: 'results/' }),
    );
    expect(e.message).toContain('overlap: outputs would re-trigger the pipeline');
  });

  it('rejects equal prefixes, an empty uploads prefix, and the same conflict made by overrides', () => {
    configError(() => loadConfig({ LESION_UPLOADS_PREFIX: 'data', LESION_RESULTS_PREFIX: 'data/' }));
    configError(() => loadConfig({ LESION_UPLOADS_PREFIX: '' }));
    configError(() => loadConfig({}, { resultsPrefix: 'uploads/x/' }));
  });
});
