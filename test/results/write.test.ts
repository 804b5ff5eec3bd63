// The one writer of an upload's outputs (S3 pipeline and CLI): order, names, content types, links.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resultKeys } from '../../src/results/keys.js';
import { errorResult } from '../../src/results/result.js';
import {
  folderSink,
  objectStoreSink,
  writeAnalysisOutputs,
  writeErrorOutput,
  type ResultSink,
} from '../../src/results/write.js';
import type { ObjectStore } from '../../src/storage/s3.js';
import { exampleResult } from '../helpers/results.js';

const keys = resultKeys('clinic_1/ISIC_1.jpg', 'results/');
const analysis = {
  result: exampleResult,
  maskPng: Buffer.from('mask bytes'),
  overlayJpeg: Buffer.from('overlay bytes'),
};

/** Records every put as it finishes, and what had finished when each one started. */
function recordingSink(): ResultSink & {
  puts: { key: string; contentType: string; body: string; finishedBefore: string[] }[];
} {
  const puts: { key: string; contentType: string; body: string; finishedBefore: string[] }[] = [];
  return {
    puts,
    async put(key, body, contentType) {
      const finishedBefore = puts.map((p) => p.key);
      await new Promise((r) => setImmediate(r));
      puts.push({ key, contentType, body: body.toString(), finishedBefore });
    },
    mediaUrl: (key) => `test://${key}`,
  };
}

describe('writeAnalysisOutputs', () => {
  it('starts result.json only once mask, overlay and FHIR report are stored; each has its content type', async () => {
    const sink = recordingSink();
    await writeAnalysisOutputs(sink, keys, analysis, new Date('2026-12-04T09:00:00Z'));
    const result = sink.puts.find((p) => p.key === keys.result)!;
    expect(result.finishedBefore.sort()).toEqual([keys.fhir, keys.mask, keys.overlay].sort());
    expect(new Map(sink.puts.map((p) => [p.key, p.contentType]))).toEqual(
      new Map([
        [keys.mask, 'image/png'],
        [keys.overlay, 'image/jpeg'],
        [keys.fhir, 'application/fhir+json'],
        [keys.result, 'application/json'],
      ]),
    );
  });

  it('names the mask and overlay keys in result.json and links them through the sink in the FHIR report', async () => {
    const sink = recordingSink();
    const written = await writeAnalysisOutputs(sink, keys, analysis, new Date('2026-12-04T09:00:00Z'));
    expect(written.segmentation).toMatchObject({ maskKey: keys.mask, overlayKey: keys.overlay });
    const stored = JSON.parse(sink.puts.find((p) => p.key === keys.result)!.body);
    expect(stored).toEqual(written);
    const fhir = JSON.parse(sink.puts.find((p) => p.key === keys.fhir)!.body);
    expect(fhir.issued).toBe('2026-12-04T09:00:00.000Z');
    const urls = fhir.contained
      .filter((r: { resourceType: string }) => r.resourceType === 'Media')
      .map((m: { content: { url: string } }) => m.content.url);
    expect(urls.sort()).toEqual([`test://${keys.mask}`, `test://${keys.overlay}`].sort());
  });
});

describe('objectStoreSink', () => {
  it('puts each object in the bucket with the same metadata and links s3:// locations', async () => {
    const calls: unknown[][] = [];
    const store = { put: async (...args: unknown[]) => void calls.push(args) } as unknown as ObjectStore;
    const sink = objectStoreSink(store, 'results-bucket', { 'source-etag': 'abc' });
    await sink.put('results/x/mask.png', 'm', 'image/png');
    expect(calls).toEqual([
      ['results-bucket', 'results/x/mask.png', 'm', 'image/png', { 'source-etag': 'abc' }],
    ]);
    expect(sink.mediaUrl('results/x/mask.png')).toBe('s3://results-bucket/results/x/mask.png');
  });
});

describe('folderSink', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-write-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes files below the folder (creating sub-folders) and links them by absolute file: URL', async () => {
    const sink = folderSink(dir);
    const local = resultKeys('a/b.jpg', '');
    const error = errorResult(
      { id: 'a/b.jpg', bucket: null, key: 'b.jpg', bytes: 3 },
      { code: 'CORRUPT_IMAGE', message: 'not an image', retryable: false },
      null,
    );
    await writeErrorOutput(sink, local, error);
    expect(JSON.parse(await readFile(path.join(dir, 'a/b.jpg/error.json'), 'utf8'))).toEqual(error);
    expect(sink.mediaUrl(local.mask)).toBe(pathToFileURL(path.join(dir, 'a/b.jpg/mask.png')).href);
  });
});
