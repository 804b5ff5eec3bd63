/** result.json / error.json validators compiled from schemas/*.v1.schema.json with ajv. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import { REPO_ROOT } from './model.js';

type FormatsPlugin = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS: its default export arrives as `default` or as the module itself
const addFormats = ((ajvFormats as unknown as { default?: FormatsPlugin }).default ??
  ajvFormats) as unknown as FormatsPlugin;

export function readSchema(name: 'result.v1.schema.json' | 'error.v1.schema.json'): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', name), 'utf8')) as Record<string, unknown>;
}

function compile(name: 'result.v1.schema.json' | 'error.v1.schema.json'): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(readSchema(name));
}

let result: ValidateFunction | undefined;
let error: ValidateFunction | undefined;

/** Validation errors of a result.json document ([] when valid). */
export function resultSchemaErrors(doc: unknown): string[] {
  result ??= compile('result.v1.schema.json');
  return result(doc) ? [] : (result.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** Validation errors of an error.json document ([] when valid). */
export function errorSchemaErrors(doc: unknown): string[] {
  error ??= compile('error.v1.schema.json');
  return error(doc) ? [] : (error.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
