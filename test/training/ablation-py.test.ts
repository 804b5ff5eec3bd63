// The ablation summary (training/lesion_mtl/ablation.py) against hand-computed values: runs are
// grouped by their loss weights, seeds averaged, each seed paired with the multi-task run of the
// same seed; runs of different recipes or unfinished runs are refused.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config.js';
import { PYTHON, pythonCanImport } from '../helpers/python.js';

const run = promisify(execFile);

interface Epoch {
  jaccard: number;
  melanoma: number | null; // null: the split has no case of a class, so no AUC
  sk: number;
}

async function writeRun(dir: string, config: Record<string, unknown>, epochs: Epoch[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const recipe = { epochs: epochs.length, height: 192, width: 256, limit_val: null, seg_weight: 1, cls_weight: 1 };
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...recipe, ...config, run_dir: dir }));
  const rows = epochs.map((e, epoch) =>
    JSON.stringify({ epoch, val: { jaccard: e.jaccard, auc: { melanoma: e.melanoma, seborrheic_keratosis: e.sk } }, seconds: 10 }),
  );
  await writeFile(path.join(dir, 'log.jsonl'), rows.join('\n') + '\n');
  return dir;
}

type Metrics = Record<'jaccard' | 'melanomaAuc' | 'seborrheicKeratosisAuc', number | null>;
interface Variant {
  seeds: number[];
  last: Metrics;
  best: Metrics;
  minusMultiTask?: Record<string, Record<string, number>>;
  unpairedSeeds?: number[];
}

async function summarise(runDirs: string[]): Promise<{ variants: Record<string, Variant | undefined> }> {
  const code = `import json, sys\nfrom lesion_mtl.ablation import summarise\nprint(json.dumps(summarise(sys.argv[1:])))`;
  const { stdout } = await run(PYTHON, ['-c', code, ...runDirs], { cwd: path.join(PACKAGE_ROOT, 'training') });
  return JSON.parse(stdout) as { variants: Record<string, Variant | undefined> };
}

/** The Markdown report's opening paragraph (what the runs compare). */
async function reportIntro(runDirs: string[]): Promise<string> {
  const code = `import sys\nfrom lesion_mtl.ablation import markdown, summarise\nprint(markdown(summarise(sys.argv[1:]), "cmd"))`;
  const { stdout } = await run(PYTHON, ['-c', code, ...runDirs], { cwd: path.join(PACKAGE_ROOT, 'training') });
  return stdout.split('\n')[2]!;
}

const hasPython = await pythonCanImport(['json']);
const maybe = hasPython ? describe : describe.skip;

maybe('ablation summary', () => {
  let dir: string;
  let runs: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-ablation-'));
    runs = [
      await writeRun(path.join(dir, 'mt-17'), { seed: 17 }, [
        { jaccard: 0.7, melanoma: 0.8, sk: 0.9 },
        { jaccard: 0.76, melanoma: 0.88, sk: 0.94 },
      ]),
      await writeRun(path.join(dir, 'mt-29'), { seed: 29 }, [
        { jaccard: 0.8, melanoma: 0.9, sk: 0.97 },
        { jaccard: 0.78, melanoma: 0.86, sk: 0.96 },
      ]),
      await writeRun(path.join(dir, 'seg-17'), { seed: 17, cls_weight: 0 }, [
        { jaccard: 0.75, melanoma: 0.5, sk: 0.5 },
        { jaccard: 0.8, melanoma: 0.4, sk: 0.6 },
      ]),
      await writeRun(path.join(dir, 'seg-29'), { seed: 29, cls_weight: 0 }, [
        { jaccard: 0.82, melanoma: 0.5, sk: 0.5 },
        { jaccard: 0.77, melanoma: 0.5, sk: 0.5 },
      ]),
    ];
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('means over seeds, best per metric, paired differences with the multi-task run of the same seed', async () => {
    // Act
    const { variants } = await summarise(runs);
    const multiTask = variants['multi-task']!;
    const segOnly = variants['segmentation only']!;

    // Assert: last epoch means (0.76+0.78)/2, (0.88+0.86)/2, (0.94+0.96)/2; best per metric and run:
    // seed 17 → 0.76, 0.88, 0.94; seed 29 → 0.80, 0.90, 0.97
    expect(multiTask.seeds).toEqual([17, 29]);
    expect(multiTask.last.jaccard).toBeCloseTo(0.77, 12);
    expect(multiTask.last.melanomaAuc).toBeCloseTo(0.87, 12);
    expect(multiTask.last.seborrheicKeratosisAuc).toBeCloseTo(0.95, 12);
    expect(multiTask.best.jaccard).toBeCloseTo(0.78, 12);
    expect(multiTask.best.seborrheicKeratosisAuc).toBeCloseTo(0.955, 12);
    // segmentation only: 0.80 − 0.76 (seed 17), 0.77 − 0.78 (seed 29); its untrained heads are not compared
    expect(segOnly.last.jaccard).toBeCloseTo(0.785, 12);
    const diffs = segOnly.minusMultiTask!;
    expect(Object.keys(diffs)).toEqual(['jaccard']);
    expect(diffs.jaccard!['17']).toBeCloseTo(0.04, 12);
    expect(diffs.jaccard!['29']).toBeCloseTo(-0.01, 12);
    expect(segOnly.unpairedSeeds).toEqual([]);
    expect(variants['classification only']).toBeUndefined();
  });

  test('a lesion-zoom run is its own variant, paired with the plain multi-task run of its seed on every head', async () => {
    // Arrange
    const zoom = await writeRun(path.join(dir, 'zoom-17'), { seed: 17, zoom: true }, [
      { jaccard: 0.7, melanoma: 0.85, sk: 0.9 },
      { jaccard: 0.75, melanoma: 0.9, sk: 0.93 },
    ]);

    // Act
    const { variants } = await summarise([runs[0]!, runs[1]!, zoom]);
    const zoomed = variants['multi-task + lesion zoom']!;

    // Assert: seed 17's multi-task last epoch is 0.76 / 0.88 / 0.94 → −0.01, +0.02, −0.01; seed 29 has no zoom run
    expect(zoomed.seeds).toEqual([17]);
    expect(variants['multi-task']!.seeds).toEqual([17, 29]);
    expect(zoomed.minusMultiTask!.jaccard!['17']).toBeCloseTo(-0.01, 12);
    expect(zoomed.minusMultiTask!.melanomaAuc!['17']).toBeCloseTo(0.02, 12);
    expect(zoomed.minusMultiTask!.seborrheicKeratosisAuc!['17']).toBeCloseTo(-0.01, 12);
  });

  test('each model option gets its own variant name; several options join in a fixed order', async () => {
    // Arrange
    const epochs = [{ jaccard: 0.7, melanoma: 0.8, sk: 0.9 }, { jaccard: 0.72, melanoma: 0.82, sk: 0.92 }];
    const colour = await writeRun(path.join(dir, 'colour-29'), { seed: 29, colour_constancy: true }, epochs);
    const both = await writeRun(path.join(dir, 'both-29'), { seed: 29, colour_constancy: true, zoom: true }, epochs);

    // Act
    const { variants } = await summarise([runs[1]!, colour, both]);

    // Assert: plain first, then by number of options; each paired with seed 29's multi-task (0.78 / 0.86 / 0.96)
    expect(Object.keys(variants)).toEqual(['multi-task', 'multi-task + colour constancy', 'multi-task + lesion zoom + colour constancy']);
    expect(variants['multi-task + colour constancy']!.minusMultiTask!.melanomaAuc!['29']).toBeCloseTo(-0.04, 12);
    expect(await reportIntro([runs[1]!, colour])).toMatch(/only colour constancy differs\. Figures/);
  });

  test('the report says what differs between its runs, not merely which variants are present', async () => {
    // Arrange
    const zoom = (seed: number) =>
      writeRun(path.join(dir, `zoom-only-${seed}`), { seed, zoom: true }, [{ jaccard: 0.7, melanoma: 0.8, sk: 0.9 }, { jaccard: 0.7, melanoma: 0.8, sk: 0.9 }]);
    const zoomed = [await zoom(17), await zoom(29)];

    // Act
    const lossWeights = await reportIntro(runs);
    const zoomVsPlain = await reportIntro([runs[0]!, zoomed[0]!]);
    const zoomOnly = await reportIntro(zoomed);

    // Assert
    expect(lossWeights).toMatch(/only the loss weights differ\. A head whose loss is off is untrained/);
    expect(lossWeights).not.toMatch(/zoom/);
    expect(zoomVsPlain).toMatch(/only the lesion zoom differs\. Figures/);
    expect(zoomVsPlain).not.toMatch(/untrained/);
    expect(zoomOnly).toMatch(/only the seed differs\. Every run has the lesion zoom on\./);
  });

  test('refuses runs of another recipe and unfinished runs', async () => {
    // Arrange
    const other = await writeRun(path.join(dir, 'other'), { seed: 17, seg_weight: 0, height: 96 }, [
      { jaccard: 0.1, melanoma: 0.8, sk: 0.9 },
    ]);
    const unfinished = await writeRun(path.join(dir, 'unfinished'), { seed: 41, epochs: 3 }, [
      { jaccard: 0.1, melanoma: 0.8, sk: 0.9 },
    ]);

    // Act / Assert
    await expect(summarise([runs[0]!, other])).rejects.toThrow(/differs .* in \['epochs', 'height'\]/);
    await expect(summarise([unfinished])).rejects.toThrow(/1 of 3 epochs logged/);
    await expect(summarise([runs[0]!, runs[0]!])).rejects.toThrow(/a second multi-task run with seed 17/);
  });

  test('an epoch logged twice (killed after its log line, resumed) counts once; a missing AUC stays missing', async () => {
    // Arrange: epoch 1 logged twice, the second entry wins; no melanoma in this Validation split
    const resumed = await writeRun(path.join(dir, 'resumed'), { seed: 53 }, [
      { jaccard: 0.6, melanoma: null, sk: 0.9 },
      { jaccard: 0.5, melanoma: null, sk: 0.8 },
    ]);
    const again = JSON.stringify({ epoch: 1, val: { jaccard: 0.7, auc: { melanoma: null, seborrheic_keratosis: 0.85 } }, seconds: 10 });
    await writeFile(path.join(resumed, 'log.jsonl'), (await readFile(path.join(resumed, 'log.jsonl'), 'utf8')) + again + '\n');

    // Act
    const multiTask = (await summarise([resumed])).variants['multi-task']!;

    // Assert
    expect(multiTask.last).toEqual({ jaccard: 0.7, melanomaAuc: null, seborrheicKeratosisAuc: 0.85 });
    expect(multiTask.best).toEqual({ jaccard: 0.7, melanomaAuc: null, seborrheicKeratosisAuc: 0.9 });
  });
});
