import type { AnalysisResult, ErrorResult } from '../../src/results/result.js';
import type { UploadOutcome } from '../../src/service/process-uploads.js';
import { batchStats } from '../../src/service/worker.js';

const ref = { bucket: 'b', key: 'uploads/x.jpg', size: 1, uploadETag: 'e' };
const ok = (decode: number, inference: number, postprocess: number, encode: number): UploadOutcome => ({
  status: 'ok',
  ref,
  keys: {} as never,
  result: {
    timingsMs: { decode, inference, postprocess, encode, total: decode + inference + postprocess + encode },
  } as AnalysisResult,
});
const rejected: UploadOutcome = { status: 'error', ref, keys: null, error: {} as ErrorResult };

it('sums the stages over analysed uploads, attributes the rest to storage, and ages messages from SentTimestamp', () => {
  // Prepare: 3 messages (one carries two uploads, one has no SentTimestamp), 2 analysed + 1 rejected
  const messages = [
    { messageId: 'a', body: '', sentAt: 10_000 },
    { messageId: 'b', body: '', sentAt: 13_000 },
    { messageId: 'c', body: '' },
  ];
  const outcomes = new Map<string, UploadOutcome[]>([
    ['a', [ok(40, 10, 5, 15), ok(60, 10, 5, 25)]],
    ['b', [rejected]],
  ]);

  // Act
  const stats = batchStats({
    messages,
    outcomes,
    retried: 1,
    pickedUpAt: 15_000,
    ms: { receive: 100, process: 400, delete: 20 },
  });

  // Assess (by hand): stages 100/20/10/40 → 170 of 400 ms; the rest is storage and waiting.
  // Ages 5000 and 2000 ms → max 5000, mean 3500. 3 answered in 520 ms → 5.8 per second.
  expect(stats).toEqual({
    messages: 3,
    analyzed: 2,
    rejected: 1,
    retried: 1,
    ms: { receive: 100, process: 400, delete: 20, total: 520 },
    stagesMs: { decode: 100, inference: 20, postprocess: 10, encode: 40, storageAndOther: 230 },
    queueAgeMs: { max: 5000, mean: 3500 },
    imagesPerSecond: 5.8,
  });
});

it('reports no queue age when no message carries SentTimestamp, and a clock skew never gives a negative age', () => {
  const none = batchStats({
    messages: [{ messageId: 'a', body: '' }],
    outcomes: new Map(),
    retried: 0,
    pickedUpAt: 0,
    ms: { receive: 0, process: 0, delete: 0 },
  });
  expect([none.queueAgeMs, none.imagesPerSecond]).toEqual([null, 0]);
  const skewed = batchStats({
    messages: [{ messageId: 'a', body: '', sentAt: 2_000 }],
    outcomes: new Map(),
    retried: 0,
    pickedUpAt: 1_000,
    ms: { receive: 1, process: 1, delete: 1 },
  });
  expect(skewed.queueAgeMs).toEqual({ max: 0, mean: 0 });
});
