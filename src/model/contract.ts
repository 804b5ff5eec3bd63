import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, ModelLoadError } from '../errors.js';

/** Class ids in the fixed output order of the `scores` tensor. */
export const CLASS_IDS = ['melanoma', 'seborrheic_keratosis'] as const;
export type ClassId = (typeof CLASS_IDS)[number];

export interface ClassContract {
  readonly id: ClassId;
  readonly label: string;
  /** Calibrated probability = sigmoid(logit / temperature). */
  readonly temperature: number;
  /** Decision threshold on the calibrated probability. */
  readonly threshold: number;
  readonly operatingPoint: {
    readonly sensitivity: number;
    readonly specificity: number;
    readonly split: string;
    readonly targetSensitivity: number;
  };
}

/**
 * The sidecar `models/<name>.json`, written by training/ and read here: nothing about the
 * model (size, names, thresholds) is hard-coded on the TypeScript side.
 */
export interface ModelContract {
  readonly contractVersion: 1;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly file: string;
  readonly input: {
    readonly name: string;
    readonly dtype: 'uint8';
    readonly layout: 'NHWC';
    readonly height: number;
    readonly width: number;
    readonly channels: 3;
  };
  readonly outputs: {
    readonly mask: {
      readonly name: string;
      readonly kind: 'logits' | 'probabilities';
      readonly threshold: number;
    };
    readonly scores: {
      readonly name: string;
      readonly kind: 'logits' | 'probabilities';
      readonly classes: string[];
    };
    readonly oodScore?: { readonly name: string; readonly threshold: number };
  };
  readonly classes: readonly ClassContract[];
  readonly metrics?: Record<string, unknown>;
}

export interface LoadedModel {
  readonly contract: ModelContract;
  readonly modelPath: string;
  readonly bytes: Buffer;
}

/** Every problem found in a sidecar, so one failed deploy shows them all. */
export function validateContract(raw: unknown): string[] {
  const problems: string[] = [];
  const c = raw as Partial<ModelContract> | null;
  if (!c || typeof c !== 'object') return ['sidecar is not a JSON object'];
  if (c.contractVersion !== 1) problems.push(`contractVersion must be 1, got ${String(c.contractVersion)}`);
  for (const k of ['name', 'version', 'sha256', 'file'] as const) {
    if (typeof c[k] !== 'string' || c[k] === '') problems.push(`${k} must be a non-empty string`);
  }
  const inp = c.input;
  if (!inp) problems.push('input is missing');
  else {
    if (inp.dtype !== 'uint8') problems.push(`input.dtype must be uint8, got ${String(inp.dtype)}`);
    if (inp.layout !== 'NHWC') problems.push(`input.layout must be NHWC, got ${String(inp.layout)}`);
    if (inp.channels !== 3) problems.push(`input.channels must be 3, got ${String(inp.channels)}`);
    for (const k of ['height', 'width'] as const) {
      if (!Number.isInteger(inp[k]) || inp[k] <= 0) problems.push(`input.${k} must be a positive integer`);
    }
    if (Number.isInteger(inp.height) && Number.isInteger(inp.width) && inp.height > inp.width) {
      problems.push('input must be landscape (height <= width)');
    }
  }
  const out = c.outputs;
  if (!out?.mask?.name) problems.push('outputs.mask.name is missing');
  if (!out?.scores?.name) problems.push('outputs.scores.name is missing');
  for (const k of ['mask', 'scores'] as const) {
    const kind = out?.[k]?.kind;
    // a typo here would read logits as probabilities: every score and mask silently wrong
    if (kind !== 'logits' && kind !== 'probabilities')
      problems.push(`outputs.${k}.kind must be 'logits' or 'probabilities', got ${String(kind)}`);
  }
  if (out?.mask && !(out.mask.threshold >= 0 && out.mask.threshold <= 1))
    problems.push('outputs.mask.threshold must be in [0, 1]');
  if (out?.scores?.classes && out.scores.classes.join(',') !== CLASS_IDS.join(',')) {
    problems.push(
      `outputs.scores.classes must be [${CLASS_IDS.join(', ')}], got [${out.scores.classes.join(', ')}]`,
    );
  }
  if (!Array.isArray(c.classes) || c.classes.length !== CLASS_IDS.length) {
    problems.push(`classes must list ${CLASS_IDS.length} entries`);
  } else {
    c.classes.forEach((cl, i) => {
      if (cl.id !== CLASS_IDS[i])
        problems.push(`classes[${i}].id must be ${CLASS_IDS[i]}, got ${String(cl.id)}`);
      if (!(cl.temperature > 0)) problems.push(`classes[${i}].temperature must be > 0`);
      if (!(cl.threshold >= 0 && cl.threshold <= 1))
        problems.push(`classes[${i}].threshold must be in [0, 1]`);
    });
  }
  return problems;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Read a model and its sidecar (`<model>.json` beside `<model>.onnx`), check the contract and
 * the file's sha256. Throws ModelLoadError listing every mismatch.
 *
 * @example
 * const { contract, bytes } = await loadModelFiles('models/lesion-mtl.onnx');
 */
export async function loadModelFiles(modelPath: string): Promise<LoadedModel> {
  const sidecarPath = modelPath.replace(/\.onnx$/, '') + '.json';
  let raw: unknown;
  let bytes: Buffer;
  try {
    raw = JSON.parse(await readFile(sidecarPath, 'utf8'));
  } catch (cause) {
    throw new ModelLoadError(ErrorCode.MODEL_LOAD_FAILED, `cannot read model sidecar ${sidecarPath}`, {
      cause,
    });
  }
  try {
    bytes = await readFile(modelPath);
  } catch (cause) {
    throw new ModelLoadError(ErrorCode.MODEL_LOAD_FAILED, `cannot read model file ${modelPath}`, { cause });
  }
  const problems = validateContract(raw);
  const contract = raw as ModelContract;
  if (problems.length === 0 && path.basename(modelPath) !== contract.file) {
    problems.push(`sidecar describes ${contract.file}, not ${path.basename(modelPath)}`);
  }
  if (problems.length === 0) {
    const actual = sha256(bytes);
    if (actual !== contract.sha256) {
      problems.push(
        `sha256 of ${modelPath} is ${actual}, sidecar says ${contract.sha256} (corrupt or replaced file)`,
      );
    }
  }
  if (problems.length > 0) {
    throw new ModelLoadError(
      ErrorCode.CONTRACT_MISMATCH,
      `model contract check failed: ${problems.join('; ')}`,
      {
        details: { problems, modelPath },
      },
    );
  }
  return { contract, modelPath, bytes };
}
