// The training code's operating-point maths (training/lesion_mtl/metrics.py) against hand-computed
// values. It runs in Python because export.py writes the sidecar thresholds the pipeline serves.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config.js';
import { PYTHON, pythonCanImport } from '../helpers/python.js';

const run = promisify(execFile);

async function python(code: string): Promise<unknown> {
  const { stdout } = await run(PYTHON, ['-c', `import json, numpy as np\nfrom lesion_mtl.metrics import *\n${code}`], {
    cwd: path.join(PACKAGE_ROOT, 'training'),
  });
  return JSON.parse(stdout);
}

const hasNumpy = await pythonCanImport(['numpy']);
const maybe = hasNumpy ? describe : describe.skip;

maybe('threshold_at_sensitivity', () => {
  test('sits midway below the k-th positive, so a tiny score change keeps the case', async () => {
    // positives 0.9, 0.7, 0.4, 0.2; negatives 0.8, 0.5, 0.3, 0.1. 75 % sensitivity needs 3 of 4
    // positives: the 3rd is 0.4, the next lower score is 0.3 → 0.35 (sens 0.75, spec 0.5).
    const out = await python(`
p = np.array([0.9, 0.7, 0.4, 0.2, 0.8, 0.5, 0.3, 0.1]); y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
t = threshold_at_sensitivity(p, y, 0.75)
print(json.dumps([t, sens_spec(p, y, t), sens_spec(p - 1e-6, y, t)]))`);
    const [t, exact, nudged] = out as [number, [number, number], [number, number]];
    expect(t).toBeCloseTo(0.35, 12);
    expect(exact).toEqual([0.75, 0.5]);
    expect(nudged).toEqual([0.75, 0.5]);
  });

  test('the lowest positive with nothing below it is the threshold itself; no positives → 0.5', async () => {
    const out = await python(`
p = np.array([0.6, 0.2, 0.9]); y = np.array([1, 1, 0])
print(json.dumps([threshold_at_sensitivity(p, y, 1.0), threshold_at_sensitivity(p, np.zeros(3), 0.9)]))`);
    expect(out).toEqual([0.2, 0.5]);
  });
});
