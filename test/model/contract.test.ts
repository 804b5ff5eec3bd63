import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, ModelLoadError } from '../../src/errors.js';
import {
  CLASS_IDS,
  loadModelFiles,
  sha256,
  validateContract,
  type ModelContract,
} from '../../src/model/contract.js';
import { requireTestModel } from '../helpers/model.js';

const sidecarOf = (model: string) => model.replace(/\.onnx$/, '') + '.json';

/** The ModelLoadError `promise` rejects with. */
async function loadError(promise: Promise<unknown>): Promise<ModelLoadError> {
  const e = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ModelLoadError);
  return e as ModelLoadError;
}

describe('validateContract', () => {
  it('accepts the test model sidecar', async () => {
    const raw: unknown = JSON.parse(await readFile(sidecarOf(requireTestModel()), 'utf8'));
    expect(validateContract(raw)).toEqual([]);
  });

  it('rejects a non-object', () => {
    expect(validateContract(null)).toEqual(['sidecar is not a JSON object']);
    expect(validateContract('model')).toEqual(['sidecar is not a JSON object']);
  });

  it('lists every problem at once', () => {
    const problems = validateContract({
      contractVersion: 2,
      name: '',
      version: 1,
      input: { dtype: 'float32', layout: 'NCHW', channels: 1, height: 256, width: 192 },
      outputs: { scores: { name: 's', classes: ['seborrheic_keratosis', 'melanoma'] } },
      classes: [
        { id: 'nevus', temperature: 0, threshold: 1.5 },
        { id: 'seborrheic_keratosis', temperature: 1, threshold: 0.5 },
      ],
    });
    expect(problems).toEqual([
      'contractVersion must be 1, got 2',
      'name must be a non-empty string',
      'version must be a non-empty string',
      'sha256 must be a non-empty string',
      'file must be a non-empty string',
      'input.dtype must be uint8, got float32',
      'input.layout must be NHWC, got NCHW',
      'input.channels must be 3, got 1',
      'input must be landscape (height <= width)',
      'outputs.mask.name is missing',
      "outputs.mask.kind must be 'logits' or 'probabilities', got undefined",
      "outputs.scores.kind must be 'logits' or 'probabilities', got undefined",
      `outputs.scores.classes must be [${CLASS_IDS.join(', ')}], got [seborrheic_keratosis, melanoma]`,
      'classes[0].id must be melanoma, got nevus',
      'classes[0].temperature must be > 0',
      'classes[0].threshold must be in [0, 1]',
    ]);
  });

  it('reports a missing input and a wrong number of classes', () => {
    const problems = validateContract({
      contractVersion: 1,
      name: 'n',
      version: 'v',
      sha256: 'x',
      file: 'f',
      classes: [],
    });
    expect(problems).toEqual([
      'input is missing',
      'outputs.mask.name is missing',
      'outputs.scores.name is missing',
      "outputs.mask.kind must be 'logits' or 'probabilities', got undefined",
      "outputs.scores.kind must be 'logits' or 'probabilities', got undefined",
      'classes must list 2 entries',
    ]);
  });

  it('rejects a misspelt output kind and a mask threshold outside [0, 1] (logits would be read as probabilities)', async () => {
    const good = JSON.parse(await readFile(sidecarOf(requireTestModel()), 'utf8')) as ModelContract;
    const bad = {
      ...good,
      outputs: {
        ...good.outputs,
        mask: { ...good.outputs.mask, threshold: 2 },
        scores: { ...good.outputs.scores, kind: 'logit' },
      },
    };
    expect(validateContract(good)).toEqual([]);
    expect(validateContract(bad)).toEqual([
      "outputs.scores.kind must be 'logits' or 'probabilities', got logit",
      'outputs.mask.threshold must be in [0, 1]',
    ]);
  });
});

describe('loadModelFiles', () => {
  let dir: string;
  let model: string;

  beforeAll(async () => {
    const source = requireTestModel();
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-contract-'));
    model = path.join(dir, path.basename(source));
    await copyFile(source, model);
    await copyFile(sidecarOf(source), sidecarOf(model));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a model whose sha256 matches its sidecar', async () => {
    const loaded = await loadModelFiles(model);
    expect(loaded.modelPath).toBe(model);
    expect(sha256(loaded.bytes)).toBe(loaded.contract.sha256);
    expect(loaded.contract.file).toBe(path.basename(model));
  });

  it('detects a flipped byte as CONTRACT_MISMATCH naming both hashes', async () => {
    const bytes = await readFile(model);
    const corrupt = path.join(dir, 'corrupt', path.basename(model));
    await mkdir(path.dirname(corrupt));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(corrupt, bytes);
    await copyFile(sidecarOf(model), sidecarOf(corrupt));

    const e = await loadError(loadModelFiles(corrupt));
    expect(e.code).toBe(ErrorCode.CONTRACT_MISMATCH);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(`sha256 of ${corrupt} is ${sha256(bytes)}`);
    expect(e.message).toContain('(corrupt or replaced file)');
    expect(e.details.problems).toHaveLength(1);
  });

  it('fails with MODEL_LOAD_FAILED when the sidecar is missing', async () => {
    const lonely = path.join(dir, 'lonely.onnx');
    await copyFile(model, lonely);
    const e = await loadError(loadModelFiles(lonely));
    expect(e.code).toBe(ErrorCode.MODEL_LOAD_FAILED);
    expect(e.message).toBe(`cannot read model sidecar ${path.join(dir, 'lonely.json')}`);
  });

  it('fails with MODEL_LOAD_FAILED when the model file is missing', async () => {
    const ghost = path.join(dir, 'ghost.onnx');
    await copyFile(sidecarOf(model), path.join(dir, 'ghost.json'));
    const e = await loadError(loadModelFiles(ghost));
    expect(e.code).toBe(ErrorCode.MODEL_LOAD_FAILED);
    expect(e.message).toBe(`cannot read model file ${ghost}`);
  });

  it('fails with CONTRACT_MISMATCH when the sidecar describes another file', async () => {
    const renamed = path.join(dir, 'renamed.onnx');
    await copyFile(model, renamed);
    await copyFile(sidecarOf(model), path.join(dir, 'renamed.json'));
    const e = await loadError(loadModelFiles(renamed));
    expect(e.code).toBe(ErrorCode.CONTRACT_MISMATCH);
    expect(e.message).toContain(`sidecar describes ${path.basename(model)}, not renamed.onnx`);
  });

  it('fails with MODEL_LOAD_FAILED when the sidecar is not JSON', async () => {
    const broken = path.join(dir, 'broken.onnx');
    await copyFile(model, broken);
    await writeFile(path.join(dir, 'broken.json'), '{ "contractVersion": 1, ');
    const e = await loadError(loadModelFiles(broken));
    expect(e.code).toBe(ErrorCode.MODEL_LOAD_FAILED);
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });
});
