/**
 * A broken model fails at start-up (LesionAnalyzer.create / LocalPipeline.start), loudly and
 * once, never as a per-message error; the shared analyzer does not cache the failure.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, ModelLoadError } from '../../src/errors.js';
import { LocalPipeline } from '../../src/local/pipeline.js';
import { sha256 } from '../../src/model/contract.js';
import { getSharedAnalyzer, LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import { requireTestModel, testConfig } from '../helpers/model.js';

let dir: string;
let source: string;

beforeAll(async () => {
  source = requireTestModel();
  dir = await mkdtemp(path.join(tmpdir(), 'lesion-model-load-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Write model bytes + a sidecar (optionally edited) under a new name in the temp dir. */
async function writeModel(
  name: string,
  bytes: Buffer,
  edit: (sidecar: Record<string, unknown>) => void = () => undefined,
): Promise<string> {
  const sidecar = JSON.parse(await readFile(source.replace(/\.onnx$/, '.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  sidecar.file = `${name}.onnx`;
  sidecar.sha256 = sha256(bytes);
  edit(sidecar);
  const model = path.join(dir, `${name}.onnx`);
  await writeFile(model, bytes);
  await writeFile(path.join(dir, `${name}.json`), JSON.stringify(sidecar));
  return model;
}

async function createError(modelPath: string): Promise<ModelLoadError> {
  const e = await LesionAnalyzer.create({ config: testConfig({ modelPath }) }).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ModelLoadError);
  return e as ModelLoadError;
}

describe('corrupted or mismatched model at start-up', () => {
  it('a flipped byte (sidecar unchanged) → CONTRACT_MISMATCH naming the sha256 problem', async () => {
    const bytes = await readFile(source);
    bytes[bytes.length >> 1]! ^= 0xff;
    const model = path.join(dir, path.basename(source));
    await writeFile(model, bytes);
    await copyFile(source.replace(/\.onnx$/, '.json'), model.replace(/\.onnx$/, '.json'));
    const e = await createError(model);
    expect(e.code).toBe(ErrorCode.CONTRACT_MISMATCH);
    expect(e.message).toMatch(
      /^model contract check failed: sha256 of .* is [0-9a-f]{64}, sidecar says [0-9a-f]{64} \(corrupt or replaced file\)$/,
    );
  });

  it('bytes that are not ONNX (sidecar hash matching) → MODEL_LOAD_FAILED from onnxruntime', async () => {
    const model = await writeModel('garbage', Buffer.from('this is not an onnx protobuf'.repeat(100)));
    const e = await createError(model);
    expect(e.code).toBe(ErrorCode.MODEL_LOAD_FAILED);
    expect(e.message).toBe(`onnxruntime could not load ${model} (cpu)`);
    expect(e.cause).toBeDefined();
  });

  it('a truncated ONNX file → MODEL_LOAD_FAILED', async () => {
    const bytes = await readFile(source);
    const model = await writeModel('truncated', bytes.subarray(0, bytes.length >> 1));
    expect((await createError(model)).code).toBe(ErrorCode.MODEL_LOAD_FAILED);
  });

  it('output names that do not match the sidecar → CONTRACT_MISMATCH listing each one', async () => {
    const model = await writeModel('renamed-io', await readFile(source), (c) => {
      const outputs = c.outputs as Record<string, { name: string }>;
      outputs.mask!.name = 'segmentation';
      c.input = { ...(c.input as object), name: 'pixels' };
    });
    const e = await createError(model);
    expect(e.code).toBe(ErrorCode.CONTRACT_MISMATCH);
    expect(e.message).toContain("input 'pixels' not in model inputs [image]");
    expect(e.message).toContain("output 'segmentation' not in model outputs");
    expect(e.details.problems).toHaveLength(2);
  });

  it("a sidecar whose input size is not the graph's → CONTRACT_MISMATCH naming both shapes", async () => {
    const bytes = await readFile(source);
    const sidecar = JSON.parse(await readFile(source.replace(/\.onnx$/, '.json'), 'utf8')) as {
      input: { height: number; width: number };
    };
    const { height, width } = sidecar.input;
    const model = await writeModel('resized', bytes, (c) => {
      c.input = { ...(c.input as object), height: height / 2, width: width / 2 };
    });
    const e = await createError(model);
    expect(e.code).toBe(ErrorCode.CONTRACT_MISMATCH);
    expect(e.message).toContain(
      `input 'image' has shape [batch, ${height}, ${width}, 3], the sidecar says [N, ${height / 2}, ${width / 2}, 3]`,
    );
  });

  it('a missing model file → MODEL_LOAD_FAILED', async () => {
    expect((await createError(path.join(dir, 'nowhere.onnx'))).code).toBe(ErrorCode.MODEL_LOAD_FAILED);
  });

  it('LocalPipeline.start fails before taking any message', async () => {
    const bytes = await readFile(source);
    bytes[100]! ^= 0xff;
    const model = path.join(dir, 'flipped', path.basename(source));
    await mkdir(path.dirname(model));
    await writeFile(model, bytes);
    await copyFile(source.replace(/\.onnx$/, '.json'), model.replace(/\.onnx$/, '.json'));
    await expect(LocalPipeline.start({ config: testConfig({ modelPath: model }) })).rejects.toBeInstanceOf(
      ModelLoadError,
    );
  });

  it('getSharedAnalyzer does not cache a failed load: the next call loads the good model', async () => {
    const bad = getSharedAnalyzer({ config: testConfig({ modelPath: path.join(dir, 'nowhere.onnx') }) });
    await expect(bad).rejects.toMatchObject({ code: ErrorCode.MODEL_LOAD_FAILED });
    const good = await getSharedAnalyzer({ config: testConfig() });
    expect(good.contract.sha256).toBe(sha256(await readFile(source)));
    expect(await getSharedAnalyzer()).toBe(good); // memoised once it succeeded
    await good.dispose();
  });
});
