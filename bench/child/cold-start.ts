// The minimal cold-start script of `npm run bench`: load the model, analyse one image, print
// one marked JSON line, exit. Spawned as a fresh process (through tsx, or as an esbuild bundle)
// so its wall time is a process's real start → first result.
//
//   node --import tsx bench/child/cold-start.ts --model M --image I [--threads 2] [--repeat 1]
import { performance } from 'node:perf_hooks';

const RESULT_MARKER = 'BENCH_RESULT ';

const tStart = performance.now(); // ms since the process's time origin (≈ process start)
const { parseArgs } = await import('node:util');
const { readFile } = await import('node:fs/promises');
const { loadConfig } = await import('../../src/config.js');
const { LesionAnalyzer } = await import('../../src/pipeline/analyzer.js');
const tImports = performance.now();

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    image: { type: 'string' },
    threads: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '1' },
  },
});
if (!values.model || !values.image) throw new Error('usage: cold-start --model PATH --image PATH');
const config = loadConfig(process.env, {
  modelPath: values.model,
  executionProvider: 'cpu',
  intraOpThreads: Number(values.threads),
});
const analyzer = await LesionAnalyzer.create({ config });
const tModel = performance.now();
const bytes = await readFile(values.image);
const first = await analyzer.analyze(bytes, { id: 'cold-start' });
const tFirst = performance.now();
for (let i = 1; i < Number(values.repeat); i++) await analyzer.analyze(bytes, { id: `repeat-${i}` });
const tEnd = performance.now();
process.stdout.write(
  RESULT_MARKER +
    JSON.stringify({
      phasesMs: {
        beforeMain: tStart,
        imports: tImports - tStart,
        modelLoad: tModel - tImports,
        firstAnalyze: tFirst - tModel,
        toFirstResult: tFirst,
        repeats: tEnd - tFirst,
      },
      maskPngBytes: first.maskPng.length,
      status: first.result.status,
      maxRssKiB: process.resourceUsage().maxRSS,
    }) +
    '\n',
);
await analyzer.dispose();
