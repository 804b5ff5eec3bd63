/**
 * Issue 17 item 3: an upload key near S3's 1,024-byte limit gets its answer. Before, the result
 * id copied the key, so results/<id>/report.fhir.json passed 1,024 bytes: S3 refused the writes
 * (KeyTooLongError), the upload was analysed on every delivery, mask/overlay were left orphaned,
 * and the give-up error.json (just as long) failed too, so nothing answered it. Now ids are
 * bounded (src/results/keys.ts). Real s3rver and model; s3rver does not enforce S3's key limit,
 * so the store answers a key over 1,024 bytes as S3 does (400 KeyTooLongError, via the SDK).
 */
import { LocalPipeline } from '../../src/local/pipeline.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import type { AnalysisResult } from '../../src/results/result.js';
import { imageIdFromKey, resultKeys } from '../../src/results/keys.js';
import { FaultyStore, sdkError, storageFailure } from '../helpers/faults.js';
import { readSamples } from '../helpers/images.js';
import { S3_MAX_KEY_BYTES } from '../../src/storage/s3-limits.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { getJson, listAll, resultsByImageId } from '../helpers/s3.js';
import { resultSchemaErrors } from '../helpers/schema.js';

const tooLong = (key: string) => Buffer.byteLength(key) > S3_MAX_KEY_BYTES;

/**
 * A key of exactly 1,024 bytes: 'uploads/', folders of `perSegment` copies of `unit`, then a
 * file name of ASCII padding + '.jpg'. Segments stay under 255 bytes, a file name's limit in
 * s3rver's storage (longer ones are item 5's ENAMETOOLONG).
 */
function keyOf1024(unit: string, perSegment: number): string {
  let key = 'uploads/';
  const folder = `${unit.repeat(perSegment)}/`;
  while (Buffer.byteLength(key + folder) + 40 <= S3_MAX_KEY_BYTES) key += folder;
  key += 'x'.repeat(S3_MAX_KEY_BYTES - Buffer.byteLength(key) - 4) + '.jpg';
  expect(Buffer.byteLength(key)).toBe(S3_MAX_KEY_BYTES);
  return key;
}

const KEYS = [
  keyOf1024('ë', 100), // 2-byte UTF-8, 'e' + U+0308 after NFKD
  keyOf1024('日本', 35), // 3-byte UTF-8
  keyOf1024('😀', 50), // 4-byte UTF-8 (a UTF-16 surrogate pair)
  keyOf1024('a b', 60), // ASCII with spaces
  keyOf1024('ë', 1), // 337 one-letter folders: the sanitised id ('e_/' each) is as long as the key
  keyOf1024('\uFDFA', 1), // 253 folders of one 3-byte letter that NFKD spells in 18
];

let analyzer: LesionAnalyzer;
let pipeline: LocalPipeline;
let store: FaultyStore;

beforeAll(async () => {
  analyzer = await createTestAnalyzer();
  pipeline = await LocalPipeline.start({
    analyzer,
    config: analyzer.config,
    batchSize: 4,
    maxReceives: 3,
    wrapStore: (s) => {
      store = new FaultyStore(s);
      const keyTooLong = storageFailure(sdkError('KeyTooLongError', 400, 'Your key is too long'));
      for (const op of ['head', 'get', 'put'] as const) store.fail({ op, match: tooLong, error: keyTooLong });
      return store;
    },
  });
});

afterAll(async () => {
  await pipeline.stop();
  await analyzer.dispose();
});

describe('upload keys of 1,024 bytes of multi-byte UTF-8', () => {
  it('are analysed once each and answered with a complete result set, no orphans, nothing dead-lettered', async () => {
    const bytes = (await readSamples())[0]!.bytes;
    for (const key of KEYS) await pipeline.upload(key, bytes, 'image/jpeg');
    expect(pipeline.pending).toBe(KEYS.length);
    await pipeline.drain();

    // no store call used a key S3 would refuse, and nothing was retried or dead-lettered
    expect(store.calls.filter((c) => tooLong(c.key))).toEqual([]);
    expect(store.calls.filter((c) => !c.ok)).toEqual([]);
    expect(pipeline.deadLetters).toEqual([]);
    expect(pipeline.outcomes.map((o) => [o.ref.key, o.status])).toEqual(KEYS.map((k) => [k, 'ok']));
    // analysed once: one result.json write per upload
    expect(store.calls.filter((c) => c.op === 'put' && c.key.endsWith('/result.json'))).toHaveLength(
      KEYS.length,
    );

    const listed = (await listAll(pipeline.s3.client, pipeline.bucket)).map((o) => o.key);
    const ids = KEYS.map((k) => imageIdFromKey(k, 'uploads/'));
    expect(new Set(ids).size).toBe(KEYS.length);
    // every object under results/ belongs to one of these uploads and each set is complete
    const byId = resultsByImageId(listed, 'results/');
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids)
      expect(byId.get(id)).toEqual([
        'event.json',
        'mask.png',
        'overlay.jpg',
        'report.fhir.json',
        'result.json',
      ]);
    for (const [i, key] of KEYS.entries()) {
      const keys = resultKeys(ids[i]!, 'results/');
      const result = await getJson<AnalysisResult>(pipeline.s3.client, pipeline.bucket, keys.result);
      expect(resultSchemaErrors(result)).toEqual([]);
      expect(result.image).toMatchObject({ id: ids[i], key, bucket: pipeline.bucket });
      expect(result.segmentation.maskKey).toBe(keys.mask);
    }
    // the uploads are untouched
    for (const key of KEYS) expect(listed).toContain(key);
  });
});
