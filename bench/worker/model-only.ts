// `npx tsx bench/worker/model-only.ts [--provider cuda] [--batches 1,4,16,64] [--model PATH]`:
// session.run images/s of the shipped model at each batch size (bench/sections/model.ts), as
// one JSON object: the model-only half of the GPU check (scripts/gpu/), also runnable on a CPU.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_PATH, loadConfig, PACKAGE_ROOT } from '../../src/config.js';
import { decodeImage } from '../../src/image/decode.js';
import { loadModelFiles } from '../../src/model/contract.js';
import { benchModelOnly } from '../sections/model.js';

const { values } = parseArgs({
  options: {
    provider: { type: 'string', default: 'cpu' },
    batches: { type: 'string', default: '1,4,16,64' },
    threads: { type: 'string', default: '0' },
    model: { type: 'string', default: DEFAULT_MODEL_PATH },
    sample: { type: 'string', default: path.join(PACKAGE_ROOT, 'samples', 'ISIC_0012099.jpg') },
  },
});
if (values.provider !== 'cpu' && values.provider !== 'cuda')
  throw new Error(`--provider ${values.provider}: expected cpu or cuda`);
const loaded = await loadModelFiles(path.resolve(values.model));
const size = { width: loaded.contract.input.width, height: loaded.contract.input.height };
const config = loadConfig(process.env, { executionProvider: 'cpu' });
const pixels = (await decodeImage(await readFile(values.sample), config, size)).modelInput.data;
const result = await benchModelOnly(loaded, pixels, {
  provider: values.provider,
  threads: Number(values.threads),
  warmup: 10,
  iters: 100,
  batches: values.batches.split(',').map(Number),
  throughputMinMs: 3000,
  throughputMinIters: 5,
});
process.stdout.write(JSON.stringify({ model: loaded.contract.version, ...result }, null, 2) + '\n');
