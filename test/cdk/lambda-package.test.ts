/**
 * The real zip packaging path: layers built by layers/build.ts, the handler bundled by
 * NodejsFunction's local esbuild (no Docker), staged by a full synth. Then the sizes Lambda
 * counts against its 250 MB unzipped limit.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import {
  buildLayers,
  dirStats,
  LAMBDA_UNZIPPED_LIMIT_BYTES,
  LayerBuildError,
  layersBuilt,
  MODEL_FILES,
} from '../../layers/build.js';
import type { BuildLayersResult } from '../../layers/build.js';
import { LAMBDA_MODEL_PATH, REPO_ROOT } from '../../cdk/lesion-pipeline.js';
import { LesionStack } from '../../cdk/lesion-stack.js';
import { folderBytes, logicalId, newApp, tempDir } from './helpers.js';

const MiB = 2 ** 20;
const handlerEntry = path.join(REPO_ROOT, 'functions', 'analyze', 'handler.ts');
const realModels = path.join(REPO_ROOT, 'models');
const haveRealModel = MODEL_FILES.every((f) => fs.existsSync(path.join(realModels, f)));

/** models/ comes from training; until it is exported, measure with a stand-in of the expected size. */
function modelsDirForTest(tmp: string): string {
  if (haveRealModel) return realModels;
  const dir = path.join(tmp, 'stand-in-models');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'lesion-mtl.onnx'), Buffer.alloc(17 * MiB)); // ~4.3 M float32 weights
  fs.writeFileSync(path.join(dir, 'lesion-mtl.json'), '{}');
  return dir;
}

describe('Lambda zip packaging (real layers + esbuild bundling)', () => {
  let tmp: string;
  let layers: BuildLayersResult;
  let template: Template;
  let assemblyDir: string;

  const assetDir = (s3Key: unknown): string => {
    const hash = String(s3Key).replace(/\.zip$/, '');
    return path.join(assemblyDir, `asset.${hash}`);
  };

  beforeAll(() => {
    tmp = tempDir('lesion-layers-');
    layers = buildLayers({ outDir: path.join(tmp, 'layers'), modelsDir: modelsDirForTest(tmp) });
    const app = newApp();
    const stack = new LesionStack(app, 'PackageStack', {
      pipeline: { compute: 'cpu', layersDir: path.join(tmp, 'layers') },
    });
    assemblyDir = app.synth().directory;
    template = Template.fromStack(stack);
  }, 120_000);

  it('handler entry exists where the construct expects it', () => {
    expect(fs.existsSync(handlerEntry)).toBe(true);
  });

  it('bundles the handler as one ESM file that imports onnxruntime-node and sharp from the layer', () => {
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineAnalyzeFunction');
    const fn = template.toJSON().Resources[fnId].Properties;
    expect(fn.Handler).toBe('index.handler');
    const dir = assetDir(fn.Code.S3Key);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    expect(code).toMatch(/from\s*"onnxruntime-node"/);
    expect(code).toMatch(/from\s*"sharp"/);
    expect(code).toContain('createRequire');
    expect(code).not.toContain('onnxruntime_binding.node'); // the native package is not inlined
  });

  it('runtime layer: nodejs/node_modules with linux-x64 binaries only', () => {
    const nm = path.join(layers.runtime!.dir, 'nodejs', 'node_modules');
    expect(fs.readdirSync(path.join(nm, 'onnxruntime-node', 'bin', 'napi-v6'))).toEqual(['linux']);
    expect(fs.readdirSync(path.join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux'))).toEqual(['x64']);
    expect(fs.readdirSync(path.join(nm, '@img')).sort()).toEqual([
      'colour',
      'sharp-libvips-linux-x64',
      'sharp-linux-x64',
    ]);
    expect(layers.runtime!.packages).toEqual(
      expect.arrayContaining([expect.stringMatching(/^onnxruntime-node@/), expect.stringMatching(/^sharp@/)]),
    );
    expect(fs.existsSync(path.join(nm, 'adm-zip'))).toBe(false); // install-time only
  });

  it('runtime layer loads onnxruntime-node and sharp on its own (as from /opt/nodejs/node_modules)', () => {
    const script =
      "const ort = require('onnxruntime-node'); const sharp = require('sharp');" +
      "sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer()" +
      '.then((b) => console.log(JSON.stringify({ ort: typeof ort.InferenceSession.create, png: b.length > 0 })));';
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: tmp,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: path.join(layers.runtime!.dir, 'nodejs', 'node_modules'),
      },
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ ort: 'function', png: true });
  });

  it('the bundle imports with only the runtime layer beside it (Lambda-like /var/task + /opt layout)', () => {
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineAnalyzeFunction');
    const task = path.join(tmp, 'task');
    fs.cpSync(assetDir(template.toJSON().Resources[fnId].Properties.Code.S3Key), task, { recursive: true });
    fs.symlinkSync(path.join(layers.runtime!.dir, 'nodejs', 'node_modules'), path.join(task, 'node_modules'));
    const script =
      `import(${JSON.stringify(path.join(task, 'index.mjs'))})` +
      '.then((m) => console.log(JSON.stringify({ loaded: typeof m.handler })))' +
      '.catch((e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: String(e.message) })));';
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: task,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', // Lambda runs Node 22; tests may not
        LESION_MODEL_PATH: path.join(layers.model!.dir, 'models', 'lesion-mtl.onnx'),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, string>;
    // With the real model the handler loads; with the stand-in it must fail on the model, not on imports.
    if (haveRealModel) {
      expect(result).toEqual({ loaded: 'function' });
    } else {
      expect(result.code).not.toBe('ERR_MODULE_NOT_FOUND');
      expect(result.name).toMatch(/Error$/); // keepNames: error classes are not minified away
    }
  });

  it('bundles the API handler as one ESM file with everything inlined and no onnxruntime-node / sharp', () => {
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineApiFunction');
    const fn = template.toJSON().Resources[fnId].Properties;
    expect(fn.Handler).toBe('index.handler');
    expect(fn.Layers).toBeUndefined();
    const dir = assetDir(fn.Code.S3Key);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/from\s*"(onnxruntime-node|sharp)"/);
    expect(code).not.toMatch(/\bfrom\s*"@aws-sdk\//); // the SDK is bundled, pinned by the lock file
    expect(code).toContain('createRequire');
    expect(fs.statSync(path.join(dir, 'index.mjs')).size).toBeLessThan(5 * MiB);
  });

  it('the API bundle imports alone (no node_modules, no layer) with the environment the stack sets', () => {
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineApiFunction');
    const fn = template.toJSON().Resources[fnId].Properties;
    const task = path.join(tmp, 'api-task');
    fs.cpSync(assetDir(fn.Code.S3Key), task, { recursive: true });
    const env = Object.fromEntries(
      Object.entries(fn.Environment.Variables as Record<string, unknown>).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : 'lesion-data', // the bucket Ref
      ]),
    );
    const script =
      `import(${JSON.stringify(path.join(task, 'index.mjs'))})` +
      '.then((m) => console.log(JSON.stringify({ loaded: typeof m.handler })))' +
      '.catch((e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: String(e.message) })));';
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: task,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ loaded: 'function' });
  });

  it('model layer puts the model where LESION_MODEL_PATH points (/opt/models)', () => {
    for (const f of MODEL_FILES) expect(fs.existsSync(path.join(layers.model!.dir, 'models', f))).toBe(true);
    expect(LAMBDA_MODEL_PATH).toBe('/opt/models/lesion-mtl.onnx');
  });

  it("unzipped function + runtime layer + model layer stay under Lambda's 250 MB", () => {
    const sizes: Record<string, number> = {};
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineAnalyzeFunction');
    sizes.function = folderBytes(assetDir(template.toJSON().Resources[fnId].Properties.Code.S3Key));
    for (const name of ['Runtime', 'Model']) {
      const id = logicalId(template, 'AWS::Lambda::LayerVersion', `Pipeline${name}Layer`);
      sizes[name.toLowerCase()] = folderBytes(
        assetDir(template.toJSON().Resources[id].Properties.Content.S3Key),
      );
    }
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    console.log(
      `unzipped sizes (MiB)${haveRealModel ? '' : ' [model: 17 MiB stand-in, models/ not exported yet]'}: ` +
        Object.entries({ ...sizes, total })
          .map(([k, v]) => `${k} ${(v / MiB).toFixed(1)}`)
          .join(', '),
    );
    expect(sizes.runtime).toBe(layers.runtime!.bytes);
    expect(sizes.runtime!).toBeLessThan(100 * MiB);
    expect(total).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
  });
});

describe('layer builder', () => {
  it('fails with a fix-it message when the model has not been exported', () => {
    const tmp = tempDir('lesion-nomodel-');
    expect(() => buildLayers({ outDir: tmp, modelsDir: path.join(tmp, 'missing'), only: ['model'] })).toThrow(
      LayerBuildError,
    );
    expect(() => buildLayers({ outDir: tmp, modelsDir: path.join(tmp, 'missing'), only: ['model'] })).toThrow(
      /lesion-mtl\.onnx.*not found; export the trained model first/,
    );
    expect(layersBuilt(tmp)).toBe(false);
    expect(dirStats(tmp)).toEqual({ bytes: 0, files: 0 });
  });
});
