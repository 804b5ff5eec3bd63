// The output files of one upload, written by one function for the S3 pipeline and the CLI alike.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectStore } from '../storage/s3.js';
import { buildFhirReport } from './fhir.js';
import { RESULT_CONTENT_TYPES, type ResultKeys } from './keys.js';
import type { AnalysisResult, ErrorResult } from './result.js';

/** Where outputs go: an S3 bucket (the pipeline) or a folder (the CLI's --out). */
export interface ResultSink {
  put(key: string, body: Buffer | string, contentType: string): Promise<void>;
  /** Media.content.url of an output in the FHIR report. */
  mediaUrl(key: string): string;
}

/** Objects in `bucket`, each with the same S3 user metadata (the upload version, see answer.ts). */
export function objectStoreSink(
  store: ObjectStore,
  bucket: string,
  metadata: Readonly<Record<string, string>>,
): ResultSink {
  return {
    put: (key, body, contentType) => store.put(bucket, key, body, contentType, metadata),
    mediaUrl: (key) => `s3://${bucket}/${key}`,
  };
}

/** A folder sink also names the file of a key (to show it, or to remove a stale one). */
export interface FolderSink extends ResultSink {
  file(key: string): string;
}

/** Files below `root`; keys are paths relative to it and the FHIR report links absolute file: URLs. */
export function folderSink(root: string): FolderSink {
  const file = (key: string) => path.join(root, key);
  return {
    file,
    async put(key, body) {
      await mkdir(path.dirname(file(key)), { recursive: true });
      await writeFile(file(key), body);
    },
    mediaUrl: (key) => pathToFileURL(path.resolve(file(key))).href,
  };
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/** What the analyzer produced for one image. */
export interface AnalysisOutputs {
  readonly result: AnalysisResult;
  readonly maskPng: Buffer;
  readonly overlayJpeg: Buffer;
}

/**
 * Mask, overlay and FHIR report first, result.json last: a reader that sees result.json sees
 * everything. Returns result.json as written (it names the mask's and the overlay's keys).
 *
 * @example
 * const result = await writeAnalysisOutputs(folderSink('out'), resultKeys('ISIC_1.jpg', ''), analysis);
 */
export async function writeAnalysisOutputs(
  sink: ResultSink,
  keys: ResultKeys,
  a: AnalysisOutputs,
  issued: Date = new Date(),
): Promise<AnalysisResult> {
  const result: AnalysisResult = {
    ...a.result,
    segmentation: { ...a.result.segmentation, maskKey: keys.mask, overlayKey: keys.overlay },
  };
  const fhir = buildFhirReport(result, keys, { issued: issued.toISOString(), mediaUrl: sink.mediaUrl });
  await Promise.all([
    sink.put(keys.mask, a.maskPng, RESULT_CONTENT_TYPES.mask),
    sink.put(keys.overlay, a.overlayJpeg, RESULT_CONTENT_TYPES.overlay),
    sink.put(keys.fhir, json(fhir), RESULT_CONTENT_TYPES.fhir),
  ]);
  await sink.put(keys.result, json(result), RESULT_CONTENT_TYPES.result);
  return result;
}

/** error.json of an upload that got no analysis. */
export async function writeErrorOutput(
  sink: ResultSink,
  keys: ResultKeys,
  error: ErrorResult,
): Promise<void> {
  await sink.put(keys.error, json(error), RESULT_CONTENT_TYPES.error);
}
