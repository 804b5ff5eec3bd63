// The `prepare` script (run by npm ci / npm install) builds the CLI bundle, and must never fail an
// install where the sources are absent: the Dockerfiles run `npm ci` with only package.json,
// package-lock.json and .npmrc copied.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../helpers/model.js';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** Run the package.json prepare command (`node -e …`) in `cwd`, as npm would (sh -c). */
function prepareIn(cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', pkg.scripts.prepare!],
      { cwd, env: { ...process.env, NODE_OPTIONS: '' } },
      (e, stdout, stderr) => resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lesion-prepare-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm prepare', () => {
  it('succeeds with a message in a Docker build context (package.json only, no scripts/ or src/)', async () => {
    const ctx = await mkdtemp(path.join(dir, 'docker-'));
    await copyFile(path.join(REPO_ROOT, 'package.json'), path.join(ctx, 'package.json'));
    const run = await prepareIn(ctx);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(
      'prepare: no scripts/ here (e.g. a Docker build stage): the CLI bundle is not built',
    );
    expect(await readdir(ctx)).toEqual(['package.json']);
  });

  it('succeeds with a message where scripts/ is present but src/ is not', async () => {
    const ctx = await mkdtemp(path.join(dir, 'nosrc-'));
    await mkdir(path.join(ctx, 'scripts'));
    await copyFile(path.join(REPO_ROOT, 'scripts', 'prepare.mjs'), path.join(ctx, 'scripts', 'prepare.mjs'));
    const run = await prepareIn(ctx);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('prepare: no src/ here');
    expect(await readdir(ctx)).toEqual(['scripts']); // no dist/
  });

  it('is the command npm runs on install', () => {
    expect(pkg.scripts.prepare).toContain("import('./scripts/prepare.mjs')");
  });
});
