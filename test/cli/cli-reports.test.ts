// What `lesion` reports say about themselves: the FHIR report of `analyze` has `issued` and an
// absolute file: URL for its media; `eval` states the decision thresholds (table, --json,
// metrics.json) and shows progress on stderr even with --json (stdout stays pure JSON).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { isic2017SplitPaths } from '../../src/eval/dataset.js';
import type { EvaluationMetrics } from '../../src/eval/evaluate.js';
import { REPO_ROOT, testModelPath } from '../helpers/model.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lesion(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'lesion.js'), ...args, '--model', testModelPath()],
      {
        cwd: REPO_ROOT,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
        env: { ...process.env, NODE_OPTIONS: '' },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const SAMPLES = { ISIC_0012099: [1, 0], ISIC_0012143: [0, 1] } as const;
let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lesion-cli-reports-'));
  data = path.join(dir, 'isic');
  const { images, masks, labels } = isic2017SplitPaths(data, 'Validation');
  await mkdir(images, { recursive: true });
  await mkdir(masks, { recursive: true });
  const rows = ['image_id,melanoma,seborrheic_keratosis'];
  for (const [id, [mel, sk]] of Object.entries(SAMPLES)) {
    const image = path.join(REPO_ROOT, 'samples', `${id}.jpg`);
    await copyFile(image, path.join(images, `${id}.jpg`));
    const { width, height } = await sharp(image).metadata();
    const svg = `<svg width="${width}" height="${height}"><rect width="100%" height="100%" fill="#000"/><ellipse cx="${width! / 2}" cy="${height! / 2}" rx="${width! / 4}" ry="${height! / 4}" fill="#fff"/></svg>`;
    await sharp(Buffer.from(svg))
      .greyscale()
      .png()
      .toFile(path.join(masks, `${id}_segmentation.png`));
    rows.push(`${id},${mel}.0,${sk}.0`);
  }
  await writeFile(labels, rows.join('\n') + '\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lesion analyze: FHIR report', () => {
  it('has issued and absolute file: URLs to the written mask and overlay', async () => {
    // Act
    const out = path.join(dir, 'analyze');
    const before = Date.now();
    const run = await lesion([
      'analyze',
      path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg'),
      '--out',
      out,
      '--json',
    ]);

    // Assess
    expect(run.code).toBe(0);
    const report = JSON.parse(
      await readFile(path.join(out, 'ISIC_0012099.jpg', 'report.fhir.json'), 'utf8'),
    ) as {
      issued?: string;
      contained: { resourceType: string; content?: { url: string } }[];
    };
    expect(Date.parse(report.issued ?? '')).toBeGreaterThanOrEqual(before - 1000);
    const urls = report.contained.filter((c) => c.resourceType === 'Media').map((c) => c.content!.url);
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      expect(url).toMatch(/^file:\/\//);
      expect(existsSync(fileURLToPath(url))).toBe(true);
    }
  });
});

describe('lesion eval: decision thresholds and progress', () => {
  it('--json: pure JSON on stdout with the thresholds, progress lines on stderr, metrics.json with the thresholds', async () => {
    // Act
    const reports = path.join(dir, 'reports');
    const run = await lesion(['eval', '--data', data, '--split', 'Validation', '--json', '--out', reports]);

    // Assess
    expect(run.code).toBe(0);
    const metrics = JSON.parse(run.stdout) as EvaluationMetrics; // nothing else on stdout
    expect(metrics.classification.decisionThresholds).toEqual({ melanoma: 0.5, seborrheicKeratosis: 0.5 });
    expect(run.stderr).toMatch(/scoring .*2\/2 \(100%\)/);
    const written = JSON.parse(readFileSync(path.join(reports, 'metrics.json'), 'utf8')) as EvaluationMetrics;
    expect(written.classification.decisionThresholds).toEqual({ melanoma: 0.5, seborrheicKeratosis: 0.5 });
  });

  it("--model-thresholds: the table names the model's thresholds", async () => {
    // Prepare: the model's own thresholds, from its sidecar (not hard-coded: the model may change)
    const sidecar = JSON.parse(readFileSync(testModelPath().replace(/\.onnx$/, '.json'), 'utf8')) as {
      classes: { threshold: number }[];
    };
    const [mel, sk] = sidecar.classes.map((c) => String(Math.round(c.threshold * 1e4) / 1e4));

    // Act
    const run = await lesion(['eval', '--data', data, '--split', 'Validation', '--model-thresholds']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`Decision threshold t\\s+${mel!.replace('.', '\\.')}\\s+${sk!.replace('.', '\\.')}\\n`),
    );
  });
});
