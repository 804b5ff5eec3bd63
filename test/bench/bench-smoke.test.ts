// The benchmark harness's pure helpers (statistics, table formatting, the report), checked
// against hand-computed values. No timing assertions: nothing here runs a benchmark.
import { escapeCell, fmt, fmtBytes, fmtMs, fmtRatio, markdownTable } from '../../bench/lib/format.js';
import { renderMarkdown } from '../../bench/lib/report.js';
import {
  gflopsPerSecond,
  imagesPerSecond,
  median,
  percentile,
  ratio,
  summarize,
} from '../../bench/lib/stats.js';
import { markedJson } from '../../bench/lib/timing.js';
import { BENCH_SCHEMA, isSkipped, type BenchResults } from '../../bench/lib/types.js';

describe('percentile (linear interpolation, numpy type 7)', () => {
  it('interpolates between the two closest ranks', () => {
    // Prepare: rank = (n - 1) * p / 100 = 3 * 0.5 = 1.5 → halfway between 2 and 3
    // Act + Assess
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    // rank 3 * 0.95 = 2.85 → 3 + 0.85 * (4 - 3)
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 12);
    // rank 9 * 0.9 = 8.1 → 9 + 0.1 * (10 - 9)
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1, 12);
  });

  it('lands exactly on a sample when the rank is whole, whatever the input order', () => {
    // rank 4 * 0.25 = 1 → the second smallest
    expect(percentile([5, 1, 4, 2, 3], 25)).toBe(2);
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(median([9, 1, 5])).toBe(5);
  });

  it('returns the only value of a one-element sample and NaN for an empty one', () => {
    expect(percentile([10], 95)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });

  it('rejects a percentile outside [0, 100] and does not reorder its input', () => {
    const xs = [3, 1, 2];
    expect(() => percentile(xs, 101)).toThrow(RangeError);
    expect(() => percentile(xs, -1)).toThrow(RangeError);
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('summarize', () => {
  it('gives n, mean, p50, p95, min and max', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({
      n: 4,
      mean: 2.5,
      p50: 2.5,
      p95: expect.closeTo(3.85, 12),
      min: 1,
      max: 4,
    });
  });

  it('gives NaN figures for an empty sample', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.mean).toBeNaN();
  });
});

describe('ratio and rates', () => {
  it('divides, and yields null when a side is missing, not finite or the divisor is not positive', () => {
    expect(ratio(30, 10)).toBe(3);
    expect(ratio(30, null)).toBeNull();
    expect(ratio(undefined, 10)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(Number.NaN, 1)).toBeNull();
  });

  it('computes images/s over all runs: batch 4, two runs of 100 ms = 8 images in 0.2 s', () => {
    expect(imagesPerSecond(4, [100, 100])).toBe(40);
    expect(imagesPerSecond(4, [])).toBeNaN();
  });

  it('computes GFLOP/s: 2e9 FLOPs in 100 ms = 20 GFLOP/s', () => {
    expect(gflopsPerSecond(2e9, 100)).toBe(20);
  });
});

describe('markdownTable', () => {
  it('writes the header, an alignment rule and one line per row, with missing values as an em dash', () => {
    expect(markdownTable(['a', 'b'], [[1, null]], ['l', 'r'])).toBe('| a | b |\n| :-- | --: |\n| 1 | — |');
  });

  it('escapes pipes and newlines inside cells', () => {
    expect(escapeCell('a|b\nc')).toBe('a\\|b c');
    expect(markdownTable(['x'], [['a|b']])).toBe('| x |\n| :-- |\n| a\\|b |');
  });

  it('pads short rows, shows non-finite numbers as missing and rejects long rows', () => {
    expect(markdownTable(['a', 'b'], [['x'], [Number.NaN, 2]])).toBe(
      '| a | b |\n| :-- | :-- |\n| x |  |\n| — | 2 |',
    );
    expect(() => markdownTable(['a'], [[1, 2]])).toThrow('row 0 has 2 cells, the table has 1 columns');
    expect(() => markdownTable([], [])).toThrow();
  });
});

describe('number formatting', () => {
  it('formats milliseconds with precision that suits the magnitude', () => {
    expect(fmtMs(4.567)).toBe('4.57');
    expect(fmtMs(45.67)).toBe('45.7');
    expect(fmtMs(456.7)).toBe('457');
    expect(fmtMs(null)).toBe('—');
    expect(fmtMs(Number.POSITIVE_INFINITY)).toBe('—');
  });

  it('formats ratios, fixed decimals and bytes', () => {
    expect(fmtRatio(3.456)).toBe('3.46×');
    expect(fmtRatio(12.34)).toBe('12.3×');
    expect(fmtRatio(null)).toBe('—');
    expect(fmt(3.14159, 2)).toBe('3.14');
    expect(fmt(undefined)).toBe('—');
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(1536)).toBe('1.5 KiB');
    expect(fmtBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });
});

describe('markedJson (child-process result lines)', () => {
  it('parses the last line that starts with the marker, or gives null', () => {
    const text = 'noise\nBENCH_RSS {"maxRssKiB":1}\nmore\nBENCH_RSS {"maxRssKiB":2}\n';
    expect(markedJson<{ maxRssKiB: number }>(text, 'BENCH_RSS ')).toEqual({ maxRssKiB: 2 });
    expect(markedJson(text, 'BENCH_RESULT ')).toBeNull();
    expect(markedJson('BENCH_RSS {broken', 'BENCH_RSS ')).toBeNull();
  });
});

describe('renderMarkdown', () => {
  const skipped = { skipped: '--skip x' };
  const results: BenchResults = {
    schema: BENCH_SCHEMA,
    createdAt: '2026-01-01T00:00:00.000Z',
    command: 'npm run bench -- --quick',
    settings: { quick: true },
    machine: {
      cpuModel: 'Test CPU',
      logicalCores: 2,
      availableParallelism: 2,
      memoryGiB: 4,
      os: 'Linux',
      node: 'v20.0.0',
      onnxruntimeNode: '1.30.0',
      onnxruntimeWeb: null,
      sharp: '0.35.5',
      libvips: '8.18.7',
      sharpConcurrency: 1,
      date: '2026-01-01T00:00:00.000Z',
      loadAverageStart: [0.5, 0.25, 0.1],
      loadAverageEnd: [1, 0.5, 0.2],
    },
    model: {
      path: 'models/m.onnx',
      name: 'm',
      version: '1',
      sha256: 'x',
      inputWidth: 256,
      inputHeight: 192,
      fileBytes: 2048,
      flops: 7.2e8,
      flopsSource: 'sidecar',
    },
    modelOnly: {
      provider: 'cpu',
      threads: 2,
      sessionCreateMs: 80,
      latency: summarize([10, 20, 30]),
      throughput: [{ batch: 4, perRun: summarize([40]), imagesPerSecond: 100 }],
    },
    floor: skipped,
    e2e: skipped,
    coldStart: skipped,
    memory: [],
    pytorch: skipped,
    wasm: skipped,
    gpu: { skipped: 'no NVIDIA GPU' },
    ratios: {
      pytorchOverNodeModel: 2.5,
      pytorchOverNodeE2e: {},
      wasmOverNode: { '1': 10 },
      modelOverFloor: null,
      e2e1024OverModel: null,
      e2e1024Image: null,
    },
    notes: ['a note'],
    durationSeconds: 12,
  };

  it('renders the machine table, the ratios, the measured sections and the skipped ones', () => {
    // Act
    const md = renderMarkdown(results);
    // Assess
    expect(md).toContain('| CPU | Test CPU |');
    expect(md).toContain(
      '| Load average (1/5/15 min) at start → end | 0.50 / 0.25 / 0.10 → 1.00 / 0.50 / 0.20 |',
    );
    expect(md).toContain('0.720 GFLOPs per image (sidecar)');
    expect(md).toContain(
      '| PyTorch eager model-only p50 / onnxruntime-node p50 (node is N× faster) | 2.50× |',
    );
    expect(md).toContain('| onnxruntime-web (wasm, 1 thread) p50 / onnxruntime-node p50 | 10.0× |');
    // batch-1 p50 of [10, 20, 30] is 20 ms → 50 images/s
    expect(md).toContain('| 1 (latency) | 20.0 | 29.0 | 10.0 | 3 | 50.0 |');
    expect(md).toContain('| 4 | 40.0 | 40.0 | 40.0 | 1 | 100.0 |');
    expect(md).toContain('> **Quick mode**');
    expect(md).toContain('_Skipped: --skip x_');
    expect(md).toContain('- a note');
    expect(md).toContain('## 7. GPU (CUDA execution provider)\n\n_Skipped: no NVIDIA GPU_');
    expect(md).toContain('onnxruntime-node CPU provider via');
    expect(md.endsWith('\n')).toBe(true);
    expect(isSkipped(results.floor)).toBe(true);
    expect(isSkipped(results.modelOnly)).toBe(false);
  });
});
