// The training code end to end on a tiny synthetic dataset in ISIC 2017 layout:
// one short epoch on CPU, export, the contract check, and ONNX/PyTorch parity.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../../src/config.js';
import { isic2017SplitPaths, type Isic2017Split } from '../../src/eval/dataset.js';
import { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import { loadConfig } from '../../src/config.js';
import { checkParity } from './parity.js';
import { PYTHON, pythonCanImport } from '../helpers/python.js';

const run = promisify(execFile);

/** n images per split: a dark ellipse (the "lesion") on a skin-coloured background. */
async function writeSyntheticIsic(root: string, counts: Partial<Record<Isic2017Split, number>>): Promise<void> {
  for (const [split, n] of Object.entries(counts) as [Isic2017Split, number][]) {
    const { images: data, masks: gt, labels } = isic2017SplitPaths(root, split);
    await mkdir(data, { recursive: true });
    await mkdir(gt, { recursive: true });
    const rows = ['image_id,melanoma,seborrheic_keratosis'];
    for (let i = 0; i < n; i++) {
      const id = `ISIC_${String(9000000 + i)}`;
      const rx = 30 + 7 * i;
      const ellipse = (fill: string, bg: string) =>
        Buffer.from(
          `<svg width="128" height="96"><rect width="128" height="96" fill="${bg}"/><ellipse cx="64" cy="48" rx="${rx % 50}" ry="${20 + (i % 3) * 5}" fill="${fill}"/></svg>`,
        );
      await sharp(ellipse('#5a3a2a', '#d9a88a')).jpeg().toFile(path.join(data, `${id}.jpg`));
      await sharp(ellipse('#ffffff', '#000000')).greyscale().png().toFile(path.join(gt, `${id}_segmentation.png`));
      rows.push(`${id},${i % 3 === 0 ? '1.0' : '0.0'},${i % 3 === 1 ? '1.0' : '0.0'}`);
    }
    await writeFile(labels, rows.join('\r\n') + '\r\n');
  }
}

const hasTorch = await pythonCanImport(['torch', 'torchvision', 'onnx']);
const maybe = hasTorch ? describe : describe.skip;
if (!hasTorch) console.warn(`training smoke test skipped: ${PYTHON} has no torch (apt install python3-torch python3-torchvision python3-onnx)`);

// One model, and an ensemble of two seeds (members trained in turn, exported as one graph).
maybe.each(['smoke.json', 'smoke-ensemble.json'])('training smoke test (python3 training/train.py --config %s, CPU)', (config) => {
  let dir: string;
  let out: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-train-'));
    out = path.join(dir, 'model');
    await writeSyntheticIsic(path.join(dir, 'data'), { Training: 8, Validation: 6 });
    await run(
      PYTHON,
      [
        'training/train.py',
        '--config',
        `training/configs/${config}`,
        '--data',
        path.join(dir, 'data'),
        '--run-dir',
        path.join(dir, 'run'),
        '--output',
        out,
      ],
      { cwd: PACKAGE_ROOT, env: { ...process.env, PYTHONHASHSEED: '0' }, timeout: 240_000 },
    );
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a model that passes the contract check and analyses an image', async () => {
    // Act
    const analyzer = await LesionAnalyzer.create({
      config: { ...loadConfig({}), modelPath: path.join(out, 'lesion-mtl-smoke.onnx'), executionProvider: 'cpu' },
    });
    const a = await analyzer.analyze(await sharp({ create: { width: 120, height: 90, channels: 3, background: '#c08060' } }).jpeg().toBuffer(), {
      id: 'synthetic',
    });
    await analyzer.dispose();
    // Assess
    expect(analyzer.contract.input).toMatchObject({ height: 96, width: 128, layout: 'NHWC', dtype: 'uint8' });
    const sidecar = JSON.parse(await readFile(path.join(out, 'lesion-mtl-smoke.json'), 'utf8'));
    expect(sidecar.architecture.members).toBe(config === 'smoke-ensemble.json' ? 2 : 1);
    // the ensemble config turns on both model options, the lesion zoom (its box resampling must be
    // in the graph) and Shades-of-Grey colour constancy; the single one is the plain network
    const graph = await readFile(path.join(out, 'lesion-mtl-smoke.onnx'));
    expect(graph.includes('GridSample')).toBe(config === 'smoke-ensemble.json');
    expect(sidecar.architecture.encoder.includes('Shades-of-Grey')).toBe(config === 'smoke-ensemble.json');
    expect(a.result.image).toMatchObject({ width: 120, height: 90 });
    expect(await sharp(a.maskPng).metadata()).toMatchObject({ width: 120, height: 90, channels: 1 });
  });

  it('onnxruntime-node reproduces the PyTorch outputs of the exported model', async () => {
    const r = await checkParity(path.join(out, 'lesion-mtl-smoke.onnx'), path.join(out, 'parity'));
    expect(r.cases).toBe(2);
    expect(r.maxScoreDiff).toBeLessThan(1e-3);
    expect(r.minMaskAgreement).toBeGreaterThan(0.999);
  });
});

// training/device-train.sh, as run on the lent GPU, here on the CPU: members as parallel
// processes, packed per member; then the export from the unpacked runs.
maybe('parallel members (bash training/device-train.sh on the CPU), then --export-only', () => {
  let dir: string;
  let packed: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-device-train-'));
    await writeSyntheticIsic(path.join(dir, 'data'), { Training: 8, Validation: 6 });
    const config = JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'training/configs/smoke-ensemble.json'), 'utf8'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, run_dir: path.join(dir, 'run'), output: path.join(dir, 'model') }));
    const env = { ...process.env, DEVICE: 'cpu', PYTHON, POLL_SECONDS: '1', OUT: path.join(dir, 'out'), LESION_DEVICE_DATA: path.join(dir, 'data') };
    await run('bash', ['training/device-train.sh', '120', path.join(dir, 'config.json')], { cwd: PACKAGE_ROOT, env, timeout: 240_000 });
    packed = (await readdir(path.join(dir, 'out'))).sort();
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('packs each member with its best checkpoint, log and hardware, without last.pt', async () => {
    expect(packed).toEqual(['config-member-0.tgz', 'config-member-1.tgz']);
    for (const file of packed) {
      const { stdout } = await run('tar', ['tzf', path.join(dir, 'out', file)]);
      const names = stdout.split('\n').map((n) => n.replace(/^\.\//, ''));
      expect(names).toEqual(expect.arrayContaining(['best.pt', 'log.jsonl', 'hardware.txt', 'stdout.log']));
      expect(names).not.toContain('last.pt');
    }
  });

  it('exports the ensemble from the unpacked members, with the training hardware in the sidecar', async () => {
    for (const [i, file] of packed.entries()) {
      const member = path.join(dir, 'unpacked', `member-${i}`);
      await mkdir(member, { recursive: true });
      await run('tar', ['xzf', path.join(dir, 'out', file), '-C', member]);
    }
    await run(PYTHON, ['training/train.py', '--config', path.join(dir, 'config.json'), '--data', path.join(dir, 'data'), '--run-dir', path.join(dir, 'unpacked'), '--export-only'], {
      cwd: PACKAGE_ROOT,
      timeout: 240_000,
    });
    const sidecar = JSON.parse(await readFile(path.join(dir, 'model', 'lesion-mtl-smoke.json'), 'utf8'));
    expect(sidecar.architecture.members).toBe(2);
    expect(sidecar.training.hardware).toMatch(/CPU x1 threads, torch /);
    expect(sidecar.training.seconds).toBeGreaterThan(0);
  }, 300_000);
});

// training/ablation.py --config: the three variants trained in turn, then the report.
maybe('ablation (python3 training/ablation.py --config, CPU)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-ablation-'));
    await writeSyntheticIsic(path.join(dir, 'data'), { Training: 8, Validation: 6 });
    const config = JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'training/configs/smoke.json'), 'utf8'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, run_dir: path.join(dir, 'run') }));
    const args = ['training/ablation.py', '--config', path.join(dir, 'config.json'), '--data', path.join(dir, 'data'), '--out', path.join(dir, 'report')];
    await run(PYTHON, args, { cwd: PACKAGE_ROOT, timeout: 240_000 });
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains multi-task, segmentation-only and classification-only runs and reports each trained head', async () => {
    // Act
    const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8'));
    const markdown = await readFile(path.join(dir, 'report.md'), 'utf8');

    // Assert
    expect(Object.keys(report.variants)).toEqual(['multi-task', 'segmentation only', 'classification only']);
    expect(report.recipe).toMatchObject({ epochs: 1, height: 96, width: 128 });
    expect(await readdir(path.join(dir, 'run'))).toEqual(expect.arrayContaining(['multi-task', 'segmentation-only', 'classification-only']));
    expect(markdown).toMatch(/\| segmentation only \| 17 \| \d\.\d{3} \| — \| — \|/);
    expect(markdown).toMatch(/\| classification only \| 17 \| — \|/);
  });
});

/** A tiny HAM10000-layout folder: n 200x150 images, masks and metadata, two images per lesion. */
async function writeSyntheticHam(root: string, n: number): Promise<void> {
  await mkdir(path.join(root, 'images'), { recursive: true });
  await mkdir(path.join(root, 'masks'), { recursive: true });
  const rows = ['lesion_id,image_id,dx,dx_type,age,sex,localization'];
  for (let i = 0; i < n; i++) {
    const id = `ISIC_${String(8000000 + i)}`;
    const ellipse = (fill: string, bg: string) =>
      Buffer.from(`<svg width="200" height="150"><rect width="200" height="150" fill="${bg}"/><ellipse cx="100" cy="75" rx="${30 + 5 * (i % 5)}" ry="30" fill="${fill}"/></svg>`);
    await sharp(ellipse('#4a3020', '#e0b090')).jpeg().toFile(path.join(root, 'images', `${id}.jpg`));
    await sharp(ellipse('#ffffff', '#000000')).greyscale().png().toFile(path.join(root, 'masks', `${id}_segmentation.png`));
    rows.push(`HAM_${String(Math.floor(i / 2)).padStart(7, '0')},${id},${['mel', 'nv', 'bkl'][i % 3]},histo,50.0,male,back`);
  }
  await writeFile(path.join(root, 'HAM10000_metadata.csv'), rows.join('\n') + '\n');
}

// Model 2.0's route: a student warm-started from an exported model's member, distilled from it
// (teacher) on ISIC + HAM10000, selected on Validation + the HAM hold-out (smoke-distill.json).
maybe('distillation from an exported model with HAM10000 (smoke-distill.json, CPU)', () => {
  let dir: string;
  let out: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-distill-'));
    out = path.join(dir, 'student');
    await writeSyntheticIsic(path.join(dir, 'data'), { Training: 8, Validation: 6 });
    await writeSyntheticHam(path.join(dir, 'ham'), 24);
    const opts = { cwd: PACKAGE_ROOT, env: { ...process.env, PYTHONHASHSEED: '0' }, timeout: 240_000 };
    const common = ['--data', path.join(dir, 'data')];
    // the teacher: smoke.json's plain network, exported
    await run(PYTHON, ['training/train.py', '--config', 'training/configs/smoke.json', ...common, '--run-dir', path.join(dir, 'teacher-run'), '--output', path.join(dir, 'teacher')], opts);
    const teacher = path.join(dir, 'teacher', 'lesion-mtl-smoke.onnx');
    const config = JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'training/configs/smoke-distill.json'), 'utf8'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, ham: path.join(dir, 'ham'), init_from: teacher, teacher }));
    await run(PYTHON, ['training/train.py', '--config', path.join(dir, 'config.json'), ...common, '--run-dir', path.join(dir, 'run'), '--output', out], opts);
  }, 540_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('selects on Validation + the HAM hold-out and records both, and the HAM licence, in the sidecar', async () => {
    const log = (await readFile(path.join(dir, 'run', 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(log).toHaveLength(1);
    expect(log[0].selection).toBeCloseTo(log[0].val.score + log[0].ham.jaccard + log[0].ham.auc.melanoma, 6);
    const sidecar = JSON.parse(await readFile(path.join(out, 'lesion-mtl-smoke.json'), 'utf8'));
    expect(sidecar.testTimeAugmentation).toBe('none');
    expect(sidecar.architecture.members).toBe(1);
    expect(sidecar.training.data).toMatch(/HAM10000.*CC BY-NC-SA 4\.0/);
    expect(sidecar.training.hamHoldoutImages).toBeGreaterThan(0);
    // a one-epoch student: the figures exist, their size means nothing
    expect(sidecar.metrics.hamHoldout).toMatchObject({ jaccard: expect.any(Number), mean_auc: expect.any(Number) });
  });

  it('onnxruntime-node reproduces the PyTorch outputs of the distilled student', async () => {
    const r = await checkParity(path.join(out, 'lesion-mtl-smoke.onnx'), path.join(out, 'parity'));
    expect(r.cases).toBe(2);
    expect(r.maxScoreDiff).toBeLessThan(1e-3);
    expect(r.minMaskAgreement).toBeGreaterThan(0.999);
  });
});
