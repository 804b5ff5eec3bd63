// The only module that imports onnxruntime-node; no-telemetry.js is imported first, so the
// runtime never sees an environment without ORT_DISABLE_TELEMETRY (see that module).
import { disableOrtTelemetry } from './no-telemetry.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ErrorCode, InferenceError, ModelLoadError } from '../errors.js';
import type { LoadedModel, ModelContract } from '../model/contract.js';

export const ExecutionProvider = { AUTO: 'auto', CPU: 'cpu', CUDA: 'cuda' } as const;
export type ExecutionProvider = (typeof ExecutionProvider)[keyof typeof ExecutionProvider];

export interface SessionOptions {
  /** `auto` tries CUDA and falls back to CPU when the host has no CUDA provider. @default 'auto' */
  readonly executionProvider?: ExecutionProvider;
  /** Threads for one operator; 0 lets onnxruntime pick (all cores). @default 0 */
  readonly intraOpThreads?: number;
  /** Overrides for onnxruntime's own session options; they win over ours. */
  readonly ortOptions?: ort.InferenceSession.SessionOptions;
}

/** Raw model outputs for a batch of N images, in the contract's order. */
export interface ModelOutputs {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  /** [N,1,H,W] mask logits (or probabilities, per contract). */
  readonly mask: Float32Array;
  /** [N,2] score logits: melanoma, seborrheic keratosis. */
  readonly scores: Float32Array;
  /** [N] out-of-distribution score, when the model has the gate. */
  readonly oodScore: Float32Array | null;
}

export interface LesionSession {
  readonly contract: ModelContract;
  readonly provider: 'cpu' | 'cuda';
  /** images: uint8 [N,H,W,3] RGB at the contract's size. */
  run(images: Uint8Array, batch: number): Promise<ModelOutputs>;
  dispose(): Promise<void>;
}

/** The graph's I/O against the sidecar: names, element types, and the input's fixed dimensions. */
function checkIo(session: ort.InferenceSession, contract: ModelContract): string[] {
  const problems: string[] = [];
  if (!session.inputNames.includes(contract.input.name)) {
    problems.push(`input '${contract.input.name}' not in model inputs [${session.inputNames.join(', ')}]`);
  }
  const wanted = [contract.outputs.mask.name, contract.outputs.scores.name];
  if (contract.outputs.oodScore) wanted.push(contract.outputs.oodScore.name);
  for (const name of wanted) {
    if (!session.outputNames.includes(name)) {
      problems.push(`output '${name}' not in model outputs [${session.outputNames.join(', ')}]`);
    }
  }
  const { height, width, channels } = contract.input;
  for (const m of session.inputMetadata ?? []) {
    if (m.name !== contract.input.name || !m.isTensor) continue;
    if (m.type !== 'uint8') problems.push(`input '${m.name}' is ${m.type}, the sidecar says uint8`);
    const want = [null, height, width, channels]; // the batch dimension is free
    const fixed =
      m.shape.length === 4 &&
      m.shape.every((d, i) => typeof d !== 'number' || want[i] === null || d === want[i]);
    if (!fixed)
      problems.push(
        `input '${m.name}' has shape [${m.shape.join(', ')}], the sidecar says [N, ${height}, ${width}, ${channels}]`,
      );
  }
  for (const m of session.outputMetadata ?? []) {
    if (wanted.includes(m.name) && m.isTensor && m.type !== 'float32')
      problems.push(`output '${m.name}' is ${m.type}, expected float32`);
  }
  return problems;
}

/** The shapes run() hands on: a mask at input size, one score per class, one OOD score per image. */
function checkOutputDims(
  out: ort.InferenceSession.OnnxValueMapType,
  contract: ModelContract,
  batch: number,
): void {
  const { height, width } = contract.input;
  const expect: [string, number[]][] = [
    [contract.outputs.mask.name, [batch, 1, height, width]],
    [contract.outputs.scores.name, [batch, contract.classes.length]],
  ];
  if (contract.outputs.oodScore) expect.push([contract.outputs.oodScore.name, [batch]]);
  for (const [name, dims] of expect) {
    const got = out[name]?.dims ?? [];
    if (got.join(',') !== dims.join(',')) {
      throw new InferenceError(
        `model output '${name}' has dims [${got.join(', ')}], expected [${dims.join(', ')}]`,
      );
    }
  }
}

/**
 * Whether onnxruntime-node's CUDA provider library is installed beside its binding (the npm
 * package ships CPU only; GPU images add it with ONNXRUNTIME_NODE_INSTALL=cuda12).
 */
export function cudaProviderInstalled(): boolean {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    const dir = path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** Providers to try in order: CUDA when asked (or auto and installed), CPU always as the fallback. */
export function providerList(ep: ExecutionProvider, cudaInstalled = cudaProviderInstalled()): string[] {
  if (ep === 'cpu' || (ep === 'auto' && !cudaInstalled)) return ['cpu'];
  return ['cuda', 'cpu'];
}

async function createOrtSession(
  bytes: Uint8Array,
  providers: string[],
  opts: SessionOptions,
): Promise<ort.InferenceSession> {
  // again here: a bundle hoists onnxruntime-node's import above everything (the runtime reads
  // the variable when its environment is created, at the first session)
  disableOrtTelemetry();
  return ort.InferenceSession.create(bytes, {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.intraOpThreads ?? 0,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    ...opts.ortOptions,
  });
}

/**
 * Create an onnxruntime session for a checked model and verify its I/O names.
 *
 * @example
 * const session = await createLesionSession(await loadModelFiles(path), { executionProvider: 'cpu' });
 */
export async function createLesionSession(
  model: LoadedModel,
  opts: SessionOptions = {},
): Promise<LesionSession> {
  const ep = opts.executionProvider ?? 'auto';
  let session: ort.InferenceSession;
  const providers = providerList(ep);
  let provider: 'cpu' | 'cuda' = providers[0] === 'cuda' ? 'cuda' : 'cpu';
  try {
    session = await createOrtSession(model.bytes, providers, opts);
  } catch (cause) {
    if (ep !== 'auto' || provider === 'cpu') {
      throw new ModelLoadError(
        ErrorCode.MODEL_LOAD_FAILED,
        `onnxruntime could not load ${model.modelPath} (${ep})`,
        {
          cause,
        },
      );
    }
    // auto: the CUDA provider library is absent on CPU hosts; retry on CPU alone.
    provider = 'cpu';
    try {
      session = await createOrtSession(model.bytes, ['cpu'], opts);
    } catch (cause2) {
      throw new ModelLoadError(ErrorCode.MODEL_LOAD_FAILED, `onnxruntime could not load ${model.modelPath}`, {
        cause: cause2,
      });
    }
  }
  const problems = checkIo(session, model.contract);
  if (problems.length > 0) {
    await session.release();
    throw new ModelLoadError(
      ErrorCode.CONTRACT_MISMATCH,
      `model I/O does not match its sidecar: ${problems.join('; ')}`,
      {
        details: { problems },
      },
    );
  }
  const { contract } = model;
  const { height, width } = contract.input;
  return {
    contract,
    provider,
    async run(images: Uint8Array, batch: number): Promise<ModelOutputs> {
      const expected = batch * height * width * 3;
      if (images.length !== expected) {
        throw new InferenceError(
          `input has ${images.length} bytes, expected ${expected} for [${batch},${height},${width},3]`,
        );
      }
      const input = new ort.Tensor('uint8', images, [batch, height, width, 3]);
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run({ [contract.input.name]: input });
      } catch (cause) {
        // dims and dtype only: never log pixel data
        throw new InferenceError(`onnxruntime run failed for uint8 [${batch},${height},${width},3]`, {
          cause,
        });
      }
      checkOutputDims(out, contract, batch);
      const ood = contract.outputs.oodScore ? out[contract.outputs.oodScore.name] : undefined;
      return {
        batch,
        height,
        width,
        mask: out[contract.outputs.mask.name]!.data as Float32Array,
        scores: out[contract.outputs.scores.name]!.data as Float32Array,
        oodScore: ood ? (ood.data as Float32Array) : null,
      };
    },
    async dispose() {
      await session.release();
    },
  };
}
