// Model-only CPU latency of two ONNX files measured in ONE interleaved run: both sessions are
// created up front, then each round times one batch-1 session.run of A, then one of B (the order
// alternates every round), so load from other work on the machine hits both alike.
//   npx tsx bench/latency-compare.ts --a models/lesion-mtl.onnx --b runs/x/export/lesion-mtl.onnx [--rounds 200] [--threads 2]
// Prints JSON: p50/p95/mean per file and the ratio B/A of the p50s (and of the per-round pairs).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { decodeImage } from '../src/image/decode.js';
import { createLesionSession } from '../src/inference/session.js';
import { loadModelFiles } from '../src/model/contract.js';
import { now } from './lib/timing.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    rounds: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '10' },
    threads: { type: 'string', default: '2' },
    image: { type: 'string', default: path.join('samples', 'ISIC_0012099.jpg') },
  },
});
if (!values.a || !values.b) throw new Error('usage: --a MODEL.onnx --b MODEL.onnx');
const threads = Number(values.threads);
const files = [values.a, values.b];
const models = await Promise.all(files.map((f) => loadModelFiles(f)));
const size = { width: models[0]!.contract.input.width, height: models[0]!.contract.input.height };
for (const m of models)
  if (m.contract.input.width !== size.width || m.contract.input.height !== size.height)
    throw new Error('the two models must share the input size');
const config = loadConfig(process.env, { executionProvider: 'cpu', intraOpThreads: threads });
const pixels = (await decodeImage(await readFile(values.image), config, size)).modelInput.data;
const sessions = await Promise.all(
  models.map((m) => createLesionSession(m, { executionProvider: 'cpu', intraOpThreads: threads })),
);
try {
  for (let i = 0; i < Number(values.warmup); i++) for (const s of sessions) await s.run(pixels, 1);
  const times: number[][] = [[], []];
  for (let r = 0; r < Number(values.rounds); r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) {
      const t0 = now();
      await sessions[k]!.run(pixels, 1);
      times[k]!.push(now() - t0);
    }
  }
  const q = (xs: number[], p: number) =>
    [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  const stats = times.map((t, k) => ({
    file: files[k],
    version: models[k]!.contract.version,
    flops:
      (models[k]!.contract as unknown as { architecture?: { flops?: number } }).architecture?.flops ?? null,
    p50Ms: q(t, 0.5),
    p95Ms: q(t, 0.95),
    meanMs: t.reduce((x, y) => x + y, 0) / t.length,
  }));
  const pairRatios = times[1]!.map((t, i) => t / times[0]![i]!);
  process.stdout.write(
    JSON.stringify(
      {
        rounds: Number(values.rounds),
        threads,
        loadavg: (await import('node:os')).loadavg(),
        a: stats[0],
        b: stats[1],
        ratioP50: stats[1]!.p50Ms / stats[0]!.p50Ms,
        ratioMedianOfPairs: q(pairRatios, 0.5),
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  for (const s of sessions) await s.dispose();
}
