// onnxruntime-web (wasm backend) latency in Node, one process per thread count: the wasm
// thread pool is fixed when the runtime first initialises, so each setting needs a fresh
// process. Prints one marked JSON line.
//
//   node --import tsx bench/child/wasm.ts --model M --threads 1 --warmup 3 --iters 20
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import { summarize } from '../lib/stats.js';

const RESULT_MARKER = 'BENCH_RESULT ';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    threads: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '3' },
    iters: { type: 'string', default: '20' },
  },
});
if (!values.model) throw new Error('usage: wasm --model PATH');
const sidecar = JSON.parse(await readFile(values.model.replace(/\.onnx$/, '') + '.json', 'utf8')) as {
  input: { name: string; width: number; height: number };
};
const threads = Number(values.threads);
ort.env.wasm.numThreads = threads;
ort.env.logLevel = 'error';
const bytes = await readFile(values.model);
let t0 = performance.now();
const session = await ort.InferenceSession.create(bytes, {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
});
const sessionCreateMs = performance.now() - t0;
const { width, height, name } = sidecar.input;
const pixels = new Uint8Array(width * height * 3);
for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31 + 17) & 0xff;
const feeds = { [name]: new ort.Tensor('uint8', pixels, [1, height, width, 3]) };
for (let i = 0; i < Number(values.warmup); i++) await session.run(feeds);
const lat: number[] = [];
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let i = 0; i < Number(values.iters); i++) {
  t0 = performance.now();
  await session.run(feeds);
  lat.push(performance.now() - t0);
}
const wall = performance.now() - wall0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  RESULT_MARKER +
    JSON.stringify({
      threadsRequested: threads,
      threadsReported: ort.env.wasm.numThreads ?? threads,
      sessionCreateMs,
      latency: summarize(lat),
      cpuPerWall: (cpu.user + cpu.system) / 1000 / wall,
    }) +
    '\n',
);
await session.release();
process.exit(0);
