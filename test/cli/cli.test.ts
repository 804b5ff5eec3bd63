// The `lesion` command as a user runs it (node bin/lesion.js, a child process) with the real
// model: analyze writes a result set per image and error.json for a non-image; eval scores an
// ISIC-layout folder and writes its reports; bad usage exits 2. With ../shared present, eval on
// Validation must reproduce the committed docs/eval figures the model card quotes.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { isic2017SplitPaths } from '../../src/eval/dataset.js';
import type { EvaluationMetrics } from '../../src/eval/evaluate.js';
import type { AnalysisResult, ErrorResult } from '../../src/results/result.js';
import { REPO_ROOT } from '../helpers/model.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lesion(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'lesion.js'), ...args],
      {
        cwd: REPO_ROOT,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
        env: { ...process.env, NODE_OPTIONS: '', ...env },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// the four samples/ images and their ISIC 2017 Part 3 labels (samples/ATTRIBUTION.md)
const SAMPLES = {
  ISIC_0012099: [1, 0],
  ISIC_0012151: [1, 0],
  ISIC_0012143: [0, 1],
  ISIC_0001769: [0, 0],
} as const;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lesion-cli-'));
  // an ISIC 2017 layout made of the samples, with a centred ellipse as each "ground truth"
  const { images: data, masks: gt, labels } = isic2017SplitPaths(path.join(dir, 'isic'), 'Validation');
  await mkdir(data, { recursive: true });
  await mkdir(gt, { recursive: true });
  const rows = ['image_id,melanoma,seborrheic_keratosis'];
  for (const [id, [mel, sk]] of Object.entries(SAMPLES)) {
    const image = path.join(REPO_ROOT, 'samples', `${id}.jpg`);
    await copyFile(image, path.join(data, `${id}.jpg`));
    const { width, height } = await sharp(image).metadata();
    const svg = `<svg width="${width}" height="${height}"><rect width="100%" height="100%" fill="#000"/><ellipse cx="${width! / 2}" cy="${height! / 2}" rx="${width! / 4}" ry="${height! / 4}" fill="#fff"/></svg>`;
    await sharp(Buffer.from(svg))
      .greyscale()
      .png()
      .toFile(path.join(gt, `${id}_segmentation.png`));
    rows.push(`${id},${mel}.0,${sk}.0`);
  }
  await writeFile(labels, rows.join('\n') + '\n');
  await writeFile(path.join(dir, 'notes.txt'), 'not an image');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lesion analyze', () => {
  it('writes the result set for an image and error.json for a non-image, and prints both as JSON', async () => {
    // Act
    const out = path.join(dir, 'analyze');
    const image = path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg');
    const run = await lesion(['analyze', image, path.join(dir, 'notes.txt'), '--out', out, '--json']);

    // Assert: exit 1, one input rejected
    expect(run.stderr).toBe('lesion: 1 of 2 inputs rejected (see their error.json)\n');
    expect(run.code).toBe(1);
    const [ok, bad] = JSON.parse(run.stdout) as [AnalysisResult, ErrorResult];
    expect(ok).toMatchObject({ status: 'ok', image: { key: image } });
    expect(bad).toMatchObject({ status: 'error', error: { code: 'UNSUPPORTED_FORMAT', retryable: false } });
    expect((await readdir(path.join(out, 'ISIC_0012099.jpg'))).sort()).toEqual([
      'mask.png',
      'overlay.jpg',
      'report.fhir.json',
      'result.json',
    ]);
    expect(await readdir(path.join(out, 'notes.txt'))).toEqual(['error.json']);
    const mask = await sharp(path.join(out, 'ISIC_0012099.jpg', 'mask.png')).metadata();
    expect([mask.width, mask.height]).toEqual([ok.image.width, ok.image.height]);
  });
});

describe('lesion analyze: one bad entry does not stop the run (issue 17 item 4)', () => {
  it('answers a folder named x.jpg, a dangling link, a 3 GiB file and a FIFO each with error.json, without reading them, and analyses the rest', async () => {
    // Arrange: the bad entries sort between two good photos
    const folder = path.join(dir, 'mixed');
    await mkdir(path.join(folder, 'x.jpg'), { recursive: true });
    const sample = path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg');
    await copyFile(sample, path.join(folder, 'a-good.jpg'));
    await copyFile(sample, path.join(folder, 'z-good.jpg'));
    await symlink(path.join(folder, 'gone.jpg'), path.join(folder, 'dangling.jpg'));
    await writeFile(path.join(folder, 'big.jpg'), '');
    await truncate(path.join(folder, 'big.jpg'), 3 * 1024 ** 3); // sparse: no 3 GiB written
    execFileSync('mkfifo', [path.join(folder, 'pipe.jpg')]); // opening it would block forever
    const out = path.join(dir, 'mixed-out');

    // Act
    const run = await lesion(['analyze', folder, '--out', out, '--json']);

    // Assert
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('lesion: 4 of 6 inputs rejected (see their error.json)\n');
    const results = JSON.parse(run.stdout) as (AnalysisResult | ErrorResult)[];
    const summary = results.map((r) => [r.image.id, r.status === 'ok' ? 'ok' : r.error.code]);
    expect(summary).toEqual([
      ['a-good.jpg', 'ok'],
      ['big.jpg', 'TOO_LARGE'],
      ['dangling.jpg', 'OBJECT_NOT_FOUND'],
      ['pipe.jpg', 'UNSUPPORTED_FORMAT'],
      ['x.jpg', 'UNSUPPORTED_FORMAT'],
      ['z-good.jpg', 'ok'],
    ]);
    const messages = Object.fromEntries(
      results.flatMap((r) => (r.status === 'error' ? [[r.image.id, r.error.message]] : [])),
    );
    expect(messages['big.jpg']).toMatch(/3072\.0 MB, above the 40\.0 MB limit/);
    expect(messages['dangling.jpg']).toMatch(/link to nothing/);
    expect(messages['pipe.jpg']).toMatch(/named pipe \(FIFO\), not an image file/);
    expect(messages['x.jpg']).toMatch(/is a folder, not an image file/);
    for (const r of results) if (r.status === 'error') expect(r.image.bytes).toBeNull(); // never read
    for (const id of ['big.jpg', 'dangling.jpg', 'pipe.jpg', 'x.jpg'])
      expect(await readdir(path.join(out, id))).toEqual(['error.json']);
  });

  it('applies LESION_MAX_BYTES before reading; every input rejected exits 1', async () => {
    const image = path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg');
    const run = await lesion(['analyze', image, '--out', path.join(dir, 'cap-out'), '--json'], {
      LESION_MAX_BYTES: '1000',
    });
    expect(run.code).toBe(1);
    const r = JSON.parse(run.stdout) as ErrorResult;
    expect(r.error).toMatchObject({ code: 'TOO_LARGE', retryable: false });
    expect(r.image.bytes).toBeNull();
  });

  it('exits 0 when every input was analysed', async () => {
    const image = path.join(REPO_ROOT, 'samples', 'ISIC_0012151.jpg');
    const run = await lesion(['analyze', image, '--out', path.join(dir, 'ok-out'), '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('lesion analyze re-runs', () => {
  it('replace the earlier outputs of an image (no stale result.json beside a new error.json)', async () => {
    // Arrange: a first run on a good image, then the same name holds a non-image
    const input = path.join(dir, 'rerun', 'case.jpg');
    const out = path.join(dir, 'rerun-out');
    await mkdir(path.dirname(input), { recursive: true });
    await copyFile(path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg'), input);
    expect((await lesion(['analyze', input, '--out', out, '--json'])).code).toBe(0);
    await writeFile(input, 'not an image any more');

    // Act
    const run = await lesion(['analyze', input, '--out', out, '--json']);

    // Assert
    expect(run.code).toBe(1);
    expect(await readdir(path.join(out, 'case.jpg'))).toEqual(['error.json']);
  });

  it('refuses an --out folder that holds an input (outputs could overwrite it), touching nothing', async () => {
    // Arrange
    const folder = path.join(dir, 'in-place');
    const input = path.join(folder, 'case.jpg');
    await mkdir(folder, { recursive: true });
    await copyFile(path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg'), input);
    const before = await readFile(input);

    // Act
    const run = await lesion(['analyze', input, '--out', folder]);

    // Assert: refused before anything is written, input unchanged
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the input ${input} lies inside --out ${folder}`);
    expect((await readFile(input)).equals(before)).toBe(true);
  });
});

describe('lesion eval', () => {
  it('scores an ISIC-layout folder with the real model and writes the reports', async () => {
    // Act
    const reports = path.join(dir, 'reports');
    const run = await lesion([
      'eval',
      '--data',
      path.join(dir, 'isic'),
      '--split',
      'Validation',
      '--json',
      '--out',
      reports,
    ]);

    // Assert
    expect(run.code).toBe(0);
    const metrics = JSON.parse(run.stdout) as EvaluationMetrics;
    expect(metrics.n).toBe(4);
    expect(metrics.segmentation.jaccard).toBeGreaterThan(0);
    expect(metrics.segmentation.jaccard).toBeLessThan(1);
    expect(typeof metrics.classification.melanoma.auc).toBe('number'); // 2 melanomas, 2 others
    expect(await readdir(reports)).toEqual(
      expect.arrayContaining(['metrics.json', 'roc.png', 'worst-cases.png']),
    );
  });

  it('exits 2 with the usage on bad usage', async () => {
    const run = await lesion(['eval']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('eval needs --data DIR --split NAME, or --images DIR');
    expect(run.stderr).toContain('usage:');
  });
});

const ISIC = path.join(REPO_ROOT, '..', 'shared', 'data', 'isic2017');
const haveIsic = existsSync(path.join(ISIC, 'ISIC-2017_Validation_Data'));
if (!haveIsic) console.warn(`lesion eval reproduction skipped: no ISIC 2017 data in ${ISIC}`);

(haveIsic ? describe : describe.skip)('lesion eval on ISIC 2017 Validation (../shared)', () => {
  it.each([
    ['at 0.5', [], 'validation.json'],
    ["at the model's thresholds", ['--model-thresholds'], 'validation.model-thresholds.json'],
  ])('reproduces docs/eval/%s figures the model card quotes', async (_what, flags, file) => {
    // Act
    const run = await lesion(['eval', '--data', ISIC, '--split', 'Validation', '--json', ...flags]);

    // Assert: the committed figures, to the third decimal the card prints
    expect(run.code).toBe(0);
    const got = JSON.parse(run.stdout) as EvaluationMetrics;
    const want = JSON.parse(
      await readFile(path.join(REPO_ROOT, 'docs', 'eval', file), 'utf8'),
    ) as EvaluationMetrics;
    expect(got.n).toBe(150);
    expect(got.segmentation.jaccard).toBeCloseTo(want.segmentation.jaccard!, 3);
    for (const c of ['melanoma', 'seborrheicKeratosis'] as const) {
      expect(got.classification[c].auc).toBeCloseTo(want.classification[c].auc!, 3);
      expect(got.classification[c].sensitivity).toBeCloseTo(want.classification[c].sensitivity!, 3);
      expect(got.classification[c].specificity).toBeCloseTo(want.classification[c].specificity!, 3);
    }
  });
});
