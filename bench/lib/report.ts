// docs/benchmarks/latest.md from latest.json's object. Pure: no I/O.
import { fmt, fmtBytes, fmtMs, fmtRatio, markdownTable, MISSING, type Cell } from './format.js';
import type { Summary } from './stats.js';
import { isSkipped, type BenchResults, type E2eRow, type SkippedRow } from './types.js';

const ms = (s: Summary | undefined) => fmtMs(s?.p50);
const p95 = (s: Summary | undefined) => fmtMs(s?.p95);

function isRow(r: E2eRow | SkippedRow): r is E2eRow {
  return 'analyze' in r;
}

function section(title: string, body: string[]): string {
  return [`## ${title}`, '', ...body].join('\n');
}

function skippedLine(x: { skipped: string }): string {
  return `_Skipped: ${x.skipped}_`;
}

function machineTable(r: BenchResults): string {
  const m = r.machine;
  const rows: Cell[][] = [
    ['CPU', m.cpuModel],
    ['Cores (logical / available to Node)', `${m.logicalCores} / ${m.availableParallelism}`],
    ['Memory', `${fmt(m.memoryGiB, 1)} GiB`],
    ['OS', m.os],
    ['Node.js', m.node],
    ['onnxruntime-node', m.onnxruntimeNode],
    ['onnxruntime-web', m.onnxruntimeWeb ?? MISSING],
    ['sharp / libvips', `${m.sharp} / ${m.libvips} (sharp.concurrency ${m.sharpConcurrency})`],
    ['Date', m.date],
    [
      'Load average (1/5/15 min) at start → end',
      `${m.loadAverageStart.map((x) => fmt(x, 2)).join(' / ')} → ${(m.loadAverageEnd ?? []).map((x) => fmt(x, 2)).join(' / ') || MISSING}`,
    ],
  ];
  return markdownTable(['', ''], rows);
}

function ratiosTable(r: BenchResults): string {
  const rows: Cell[][] = [];
  const q = r.ratios;
  rows.push([
    'Model-only batch-1 p50 / FLOP floor (lower is better, 1× = MatMul speed)',
    fmtRatio(q.modelOverFloor),
  ]);
  rows.push([
    `End to end p50 at ${q.e2e1024Image ?? '~1024x768'} / model-only batch-1 p50`,
    fmtRatio(q.e2e1024OverModel),
  ]);
  rows.push([
    'PyTorch eager model-only p50 / onnxruntime-node p50 (node is N× faster)',
    fmtRatio(q.pytorchOverNodeModel),
  ]);
  for (const [label, v] of Object.entries(q.pytorchOverNodeE2e)) {
    rows.push([`PyTorch + Pillow end to end / node analyze, ${label}`, fmtRatio(v)]);
  }
  for (const [threads, v] of Object.entries(q.wasmOverNode)) {
    rows.push([
      `onnxruntime-web (wasm, ${threads} thread${threads === '1' ? '' : 's'}) p50 / onnxruntime-node p50`,
      fmtRatio(v),
    ]);
  }
  return markdownTable(['Ratio (same run)', 'Value'], rows, ['l', 'r']);
}

function modelOnly(r: BenchResults, mo: BenchResults['modelOnly'] = r.modelOnly): string[] {
  if (isSkipped(mo)) return [skippedLine(mo)];
  const rows: Cell[][] = [
    [
      '1 (latency)',
      ms(mo.latency),
      p95(mo.latency),
      fmtMs(mo.latency.min),
      mo.latency.n,
      fmt(1000 / mo.latency.p50, 1),
    ],
    ...mo.throughput.map((t): Cell[] => [
      t.batch,
      ms(t.perRun),
      p95(t.perRun),
      fmtMs(t.perRun.min),
      t.perRun.n,
      fmt(t.imagesPerSecond, 1),
    ]),
  ];
  return [
    `onnxruntime-node ${mo.provider.toUpperCase()} provider via \`createLesionSession\`, intraOpThreads = ${mo.threads}, ` +
      `session create ${fmtMs(mo.sessionCreateMs)} ms. Times are one \`session.run\` of a whole batch ` +
      '(uint8 NHWC in, mask/scores/OOD out, tensor copies included).',
    '',
    markdownTable(['Batch', 'p50 ms / run', 'p95 ms / run', 'min ms', 'runs', 'images/s'], rows, [
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]),
  ];
}

function floor(r: BenchResults): string[] {
  const f = r.floor;
  if (isSkipped(f)) return [skippedLine(f)];
  const flops = r.model.flops;
  return [
    `${f.repeats} chained fp32 MatMuls [${f.m}x${f.k}]x[${f.k}x${f.k}] per run (bench/fixtures/matmul.onnx, ` +
      `${fmt(f.flopsPerRun / 1e9, 2)} GFLOP per run), intraOpThreads = ${f.threads}.`,
    '',
    markdownTable(
      [
        'MatMul p50 ms / run',
        'GFLOP/s at p50',
        'GFLOP/s best run',
        'Model FLOPs',
        'Floor ms (FLOPs / p50 GFLOP/s)',
        'Model p50 / floor',
      ],
      [
        [
          ms(f.perRun),
          fmt(f.gflopsP50, 1),
          fmt(f.gflopsBest, 1),
          flops ? `${fmt(flops / 1e9, 3)} G (${r.model.flopsSource})` : MISSING,
          fmtMs(f.modelFloorMs),
          fmtRatio(f.modelVsFloor),
        ],
      ],
      ['r', 'r', 'r', 'r', 'r', 'r'],
    ),
  ];
}

function e2e(r: BenchResults): string[] {
  if (isSkipped(r.e2e)) return [skippedLine(r.e2e)];
  const rows = r.e2e.filter(isRow);
  const skipped = r.e2e.filter((x): x is SkippedRow => !isRow(x));
  const imageCell = (row: E2eRow) =>
    `${row.image.label} (${row.image.width}x${row.image.height}, ${fmtBytes(row.image.bytes)})`;
  const out: string[] = [];
  out.push(
    'bytes → decode → preprocess → infer → postprocess → mask PNG at the original size + overlay JPEG + result JSON, ' +
      'through `LesionAnalyzer.analyze` (in-process, warm session, intraOpThreads as above).',
    '',
    markdownTable(
      [
        'Image',
        'analyze p50 ms',
        'p95 ms',
        'decode',
        'inference',
        'postprocess',
        'encode',
        'mask PNG',
        'overlay JPEG',
      ],
      [
        ...rows.map((row): Cell[] => [
          imageCell(row),
          ms(row.analyze),
          p95(row.analyze),
          ms(row.timingsMs.decode),
          ms(row.timingsMs.inference),
          ms(row.timingsMs.postprocess),
          ms(row.timingsMs.encode),
          fmtBytes(row.outputs.maskPngBytes),
          fmtBytes(row.outputs.overlayJpegBytes),
        ]),
        ...skipped.map((s): Cell[] => [`${s.label}: skipped (${s.skipped})`]),
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    "decode / inference / postprocess / encode are the p50 of `result.timingsMs` (the analyzer's own timers; " +
      'inference includes probabilities + mask cleaning, encode is the mask PNG and the overlay JPEG in parallel).',
    '',
    '### Stage breakdown (p50 ms, each stage timed on its own by the bench)',
    '',
    markdownTable(
      [
        'Image',
        'sharp decode (header + shrink-on-load)',
        'model-input resize',
        'session.run',
        'probs + clean',
        'finish postprocess',
        'of which preview upsample',
        'mask PNG (upsample to original + encode)',
        'overlay JPEG',
        'mask PNG + overlay JPEG in parallel',
        'result JSON',
      ],
      rows.map((row): Cell[] => {
        const s = row.stages;
        return [
          row.image.label,
          fmtMs(s.decodeTotal.p50 - s.modelInputResize.p50),
          ms(s.modelInputResize),
          ms(s.sessionRun),
          ms(s.probsAndClean),
          ms(s.finishPostprocess),
          ms(s.upsamplePreview),
          ms(s.maskPng),
          ms(s.overlayJpeg),
          ms(s.encodeParallel),
          ms(s.resultJson),
        ];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    '### S3 I/O on the local server (s3rver on 127.0.0.1, through `LocalPipeline` / `S3ObjectStore`)',
    '',
    markdownTable(
      [
        'Image',
        'upload PutObject',
        'GetObject',
        'HeadObject (sum)',
        'result PutObjects (wall)',
        'whole message (drain)',
        'S3 share',
      ],
      rows.map((row): Cell[] => {
        const s3 = row.s3;
        if (!s3) return [row.image.label, 'not run'];
        if (isSkipped(s3)) return [row.image.label, `skipped: ${s3.skipped}`];
        const io = s3.getObject.p50 + s3.heads.p50 + s3.putsWall.p50;
        return [
          row.image.label,
          ms(s3.uploadPut),
          ms(s3.getObject),
          `${ms(s3.heads)} (${s3.headCount} calls)`,
          `${ms(s3.putsWall)} (${s3.putCount} puts)`,
          ms(s3.pipeline),
          `${fmt((100 * io) / s3.pipeline.p50, 0)} %`,
        ];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  return out;
}

function coldStart(r: BenchResults): string[] {
  if (isSkipped(r.coldStart)) return [skippedLine(r.coldStart)];
  return [
    'A fresh `node` process per run: spawn → first result (the CLI: spawn → exit after writing its outputs; the ' +
      'minimal script: spawn → its result line). Median of the runs; the phases are medians reported by the child ' +
      '(beforeMain = process start → first line of the script, i.e. Node + loader start-up).',
    '',
    markdownTable(
      ['Variant', 'median ms', 'runs ms', 'phases (median ms)', 'peak RSS'],
      r.coldStart.map((c): Cell[] => [
        `${c.name}: \`${c.command}\``,
        fmtMs(c.medianMs),
        c.runs.map(fmtMs).join(', '),
        c.phasesMs
          ? Object.entries(c.phasesMs)
              .filter(([k]) => k !== 'repeats')
              .map(([k, v]) => `${k} ${fmtMs(v)}`)
              .join(', ')
          : MISSING,
        c.maxRssKiB.length ? fmtBytes(Math.max(...c.maxRssKiB) * 1024) : MISSING,
      ]),
      ['l', 'r', 'l', 'l', 'r'],
    ),
  ];
}

function memory(r: BenchResults): string[] {
  if (r.memory.length === 0) return ['_No peak-RSS figures (the cold-start section was skipped)._'];
  return [
    '`process.resourceUsage().maxRSS` of child processes (whole-process peak: Node, onnxruntime, libvips).',
    '',
    markdownTable(
      ['Process', 'Image', 'peak RSS'],
      r.memory.map((m): Cell[] => [m.name, m.image, `${fmt(m.maxRssMiB, 0)} MiB`]),
      ['l', 'l', 'r'],
    ),
  ];
}

function anchors(r: BenchResults): string[] {
  const out: string[] = ['### PyTorch eager (bench/pytorch_baseline.py)', ''];
  const pt = r.pytorch;
  if (isSkipped(pt)) out.push(skippedLine(pt));
  else {
    out.push(
      `torch ${pt.torch} (Python ${pt.python}), ${pt.threads} threads, ${pt.weights}, TTA ${pt.tta}; the same ` +
        'LesionMTL/ServingModel class as training; Pillow decode + resize, no shrink-on-load, no mask cleaning. ' +
        'Its postprocess includes the mask upsample to the original size, which the node pipeline does inside the mask PNG encode.',
      '',
      markdownTable(
        ['What', 'p50 ms', 'p95 ms', 'decode', 'resize', 'inference', 'postprocess', 'encode'],
        [
          ['model only, batch 1', ms(pt.modelOnly), p95(pt.modelOnly)],
          ...pt.images.map((img): Cell[] => [
            `end to end, ${img.label}`,
            ms(img.stages.total),
            p95(img.stages.total),
            ms(img.stages.decode),
            ms(img.stages.resize),
            ms(img.stages.inference),
            ms(img.stages.postprocess),
            ms(img.stages.encode),
          ]),
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  out.push('', '### onnxruntime-web (wasm backend in Node)', '');
  if (isSkipped(r.wasm)) out.push(skippedLine(r.wasm));
  else {
    out.push(
      markdownTable(
        ['numThreads', 'p50 ms', 'p95 ms', 'runs', 'session create ms', 'CPU / wall'],
        r.wasm.map((w): Cell[] =>
          isSkipped(w)
            ? [w.threadsRequested, `skipped: ${w.skipped}`]
            : [
                w.threadsReported === w.threadsRequested
                  ? w.threadsRequested
                  : `${w.threadsRequested} requested, ${w.threadsReported} used`,
                ms(w.latency),
                p95(w.latency),
                w.latency.n,
                fmtMs(w.sessionCreateMs),
                fmt(w.cpuPerWall, 2),
              ],
        ),
        ['r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      'numThreads is what `ort.env.wasm.numThreads` reads after the session is created (onnxruntime-web falls back to 1 ' +
        'where threads are unavailable). CPU / wall ≈ 1 means one core was busy during the timed runs; ≈ 2 means the wasm threads really ran in parallel.',
    );
  }
  return out;
}

/**
 * The Markdown report: machine, headline ratios, then one section per measurement.
 */
export function renderMarkdown(r: BenchResults): string {
  const header = [
    '# lesion-mtl benchmark',
    '',
    `Generated ${r.createdAt} by \`${r.command}\` in ${fmt(r.durationSeconds, 0)} s.`,
    '',
    `Model: **${r.model.name} ${r.model.version}** (\`${r.model.path}\`, ${fmtBytes(r.model.fileBytes)}), input ` +
      `${r.model.inputWidth}x${r.model.inputHeight}, ${r.model.flops ? `${fmt(r.model.flops / 1e9, 3)} GFLOPs per image (${r.model.flopsSource})` : 'FLOPs unknown'}.`,
  ];
  if (r.settings.quick) {
    header.push('', '> **Quick mode**: few iterations; a smoke test of the harness, not figures to quote.');
  }
  const notes = r.notes.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`)] : [];
  return (
    [
      header.join('\n'),
      section('Machine', [machineTable(r)]),
      section('Headline ratios', [ratiosTable(r)]),
      section('1. Model only (onnxruntime-node)', modelOnly(r)),
      section('2. FLOP floor (fp32 MatMul through onnxruntime)', floor(r)),
      section('3. End to end per image', e2e(r)),
      section('4. Cold start', coldStart(r)),
      section('5. Peak RSS', memory(r)),
      section('6. Anchors', anchors(r)),
      section('7. GPU (CUDA execution provider)', modelOnly(r, r.gpu)),
      notes.join('\n'),
    ]
      .filter((s) => s !== '')
      .join('\n\n') + '\n'
  );
}
