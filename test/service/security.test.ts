/**
 * Security properties: result ids derived from upload keys can never escape results/, and the
 * adapters' logs (observeWith) never carry image bytes.
 */
import path from 'node:path';
import { jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ErrorCode, InputError } from '../../src/errors.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import { MemoryPublisher } from '../../src/service/publish.js';
import { processMessages } from '../../src/service/sqs-batch.js';
import { observeWith } from '../../src/service/telemetry.js';
import { imageIdFromKey, resultKeys } from '../../src/results/keys.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { faults, FaultyStore } from '../helpers/faults.js';
import { fixtures, readSamples } from '../helpers/images.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { s3NotificationBody } from '../helpers/sqs.js';

/** Deterministic PRNG (mulberry32) so a failing key can be reproduced. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '..',
  '.',
  '/',
  '//',
  '\\',
  '..\\',
  ' ',
  '%2e%2e',
  '~',
  'a',
  'Z9',
  '_',
  '-',
  '.jpg',
  'é',
  'ë',
  '日本',
  '\u2025',
  '\uff0e\uff0e',
  '\u0000',
  '\n',
  '?',
  '#',
  '*',
  ':',
  '|',
  '"',
];

function randomKey(next: () => number): string {
  let rel = '';
  const n = 1 + Math.floor(next() * 12);
  for (let i = 0; i < n; i++) rel += PIECES[Math.floor(next() * PIECES.length)];
  return `uploads/${rel}`;
}

describe('imageIdFromKey never yields a path that escapes results/', () => {
  it('holds for 20,000 random keys built from traversal-prone pieces', () => {
    const next = prng(20261126);
    const violations: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = randomKey(next);
      let id: string;
      try {
        id = imageIdFromKey(key, 'uploads/');
      } catch (e) {
        // only keys that are folders or empty below the prefix may be refused
        const folder = key === 'uploads/' || key.endsWith('/');
        if (!(e instanceof InputError) || e.code !== ErrorCode.KEY_REJECTED || !folder)
          violations.push(`${JSON.stringify(key)} threw ${String(e)}`);
        continue;
      }
      accepted++;
      const bad =
        id.startsWith('/') ||
        id.split('/').some((s) => !/^[A-Za-z0-9._~-]+$/.test(s) || s === '.' || s === '..');
      const prefix = resultKeys(id, 'results/').prefix;
      if (bad || path.posix.normalize(prefix) !== prefix)
        violations.push(`${JSON.stringify(key)} → ${JSON.stringify(id)}`);
    }
    expect(violations).toEqual([]);
    expect(accepted).toBeGreaterThan(15_000);
  });

  it('maps different keys to different ids', () => {
    const next = prng(7);
    const seen = new Map<string, string>();
    const collisions: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const key = randomKey(next);
      let id: string;
      try {
        id = imageIdFromKey(key, 'uploads/');
      } catch {
        continue;
      }
      const other = seen.get(id);
      if (other !== undefined && other !== key)
        collisions.push(`${JSON.stringify(other)} and ${JSON.stringify(key)} → ${id}`);
      seen.set(id, key);
    }
    expect(collisions).toEqual([]);
  });
});

describe('observeWith logs keys, codes and timings, never image bytes', () => {
  let analyzer: LesionAnalyzer;
  let s3: LocalS3;

  beforeAll(async () => {
    analyzer = await createTestAnalyzer();
    s3 = await startLocalS3({ bucket: 'logs' });
  });

  afterAll(async () => {
    await s3.stop();
    await analyzer.dispose();
  });

  it('covers every outcome and leaks no bytes', async () => {
    // Prepare: an ok, a rejected, a retried, a dropped and an ignored message
    const images = {
      'uploads/ok.jpg': (await readSamples())[0]!.bytes,
      'uploads/bad.jpg': fixtures.text(),
      'uploads/retry.jpg': await fixtures.png(),
    };
    const base = new S3ObjectStore(s3.client);
    for (const [key, bytes] of Object.entries(images)) await base.put(s3.bucket, key, bytes, 'image/jpeg');
    const store = new FaultyStore(base).fail({
      op: 'get',
      match: (k) => k === 'uploads/retry.jpg',
      error: faults.slowDown,
    });
    const messages = [
      ...Object.keys(images).map((key, i) => ({
        messageId: `m${i}`,
        body: s3NotificationBody(s3.bucket, key),
      })),
      { messageId: 'm-bad-json', body: 'not json' },
      { messageId: 'm-foreign', body: s3NotificationBody(s3.bucket, 'elsewhere/x.jpg') },
    ];
    const logger = new Logger({ serviceName: 'lesion-test', logLevel: 'DEBUG' });
    const metrics = new Metrics({ namespace: 'LesionMtlTest', serviceName: 'lesion-test' });
    const logged: { level: string; args: unknown[] }[] = [];
    for (const level of ['debug', 'info', 'warn', 'error', 'critical'] as const) {
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        logged.push({ level, args });
      });
    }

    // Act
    await processMessages(
      messages,
      { analyzer, store, config: analyzer.config, publisher: new MemoryPublisher() },
      observeWith(logger, metrics),
    );
    await processMessages(
      messages.slice(0, 1),
      { analyzer, store, config: analyzer.config },
      observeWith(logger, metrics),
    ); // duplicate

    // Assess: one line per outcome kind
    expect(logged.map((l) => [l.level, l.args[0]])).toEqual(
      expect.arrayContaining([
        ['info', 'analyzed'],
        ['warn', 'rejected upload'],
        ['error', 'transient failure, message will be retried'],
        ['error', 'malformed message dropped'],
        ['warn', 'ignored record'],
        ['info', 'duplicate delivery skipped'],
      ]),
    );
    const text = JSON.stringify(logged);
    for (const bytes of Object.values(images)) {
      const slice = bytes.subarray(16, 64);
      for (const encoding of ['base64', 'hex', 'latin1'] as const)
        expect(text).not.toContain(slice.toString(encoding));
      expect(text).not.toContain(JSON.stringify(Array.from(slice.subarray(0, 12))).slice(1, -1)); // a serialised byte array
    }
    expect(text).not.toContain('"type":"Buffer"');
    expect(text).not.toMatch(/X-Amz-Signature|X-Amz-Credential/i);
    for (const l of logged) expect(JSON.stringify(l.args).length).toBeLessThan(2000);
  });
});
