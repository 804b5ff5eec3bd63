/**
 * The ONNX model the tests run. `LESION_TEST_MODEL` points at another file (e.g. the tiny
 * randomly-initialised smoke model); by default it is the trained model in models/.
 * Predictions of the smoke model are meaningless: assert on structure, never on accuracy.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LesionConfig } from '../../src/config.js';
import { LesionAnalyzer } from '../../src/pipeline/analyzer.js';

/** Repository root (this file sits in test/helpers/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `LESION_TEST_MODEL`, or `<repo>/models/lesion-mtl.onnx`. */
export function testModelPath(): string {
  return process.env.LESION_TEST_MODEL ?? path.join(REPO_ROOT, 'models', 'lesion-mtl.onnx');
}

/** Fail with instructions (not a silent skip) when the model or its sidecar is absent. */
export function requireTestModel(): string {
  const model = testModelPath();
  const sidecar = model.replace(/\.onnx$/, '') + '.json';
  if (!existsSync(model) || !existsSync(sidecar)) {
    throw new Error(
      `test model not found: ${model} (+ ${path.basename(sidecar)}). Train it, or set LESION_TEST_MODEL, e.g. ` +
        `LESION_TEST_MODEL=/tmp/dev-model/lesion-mtl-smoke.onnx after 'python3 training/train.py --config training/configs/smoke.json'`,
    );
  }
  return model;
}

/**
 * Configuration for tests: the test model on the CPU with one thread (the tests share the
 * machine), environment ignored so a developer's LESION_* variables cannot change results.
 */
export function testConfig(overrides: Partial<LesionConfig> = {}): LesionConfig {
  return loadConfig(
    {},
    { modelPath: requireTestModel(), executionProvider: 'cpu', intraOpThreads: 1, ...overrides },
  );
}

/** One analyzer per test file: create in beforeAll, dispose in afterAll. */
export function createTestAnalyzer(overrides: Partial<LesionConfig> = {}): Promise<LesionAnalyzer> {
  return LesionAnalyzer.create({ config: testConfig(overrides) });
}
