/**
 * Issue 17 item 8: onnxruntime's telemetry stays off on every path that creates a session.
 * onnxruntime 1.30 on Linux, with telemetry on, writes a persistent device id and an offline
 * event store under the cache folder (~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,
 * onnxruntime.db}) and uploads events over HTTPS from native code. Each case runs in a fresh
 * Node process with its own empty HOME and XDG_CACHE_HOME and WITHOUT ORT_DISABLE_TELEMETRY: the
 * control (onnxruntime-node imported directly) shows the device id appears, so the check is
 * live; the analyzer, the CLI and the local run must leave the folders empty.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, requireTestModel } from '../helpers/model.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lesion-telemetry-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * onnxruntime turns its telemetry off by itself when it sees a CI system's variable (read from
 * libonnxruntime.so's strings; `CI` checked by hand). A customer's Lambda or ECS task has none of
 * them, so the children run without them: otherwise, under CI, the control finds nothing and the
 * checks below would pass whether or not the product disables telemetry.
 */
const CI_MARKERS = [
  'CI',
  'TF_BUILD',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CIRCLECI',
  'TRAVIS',
  'JENKINS_URL',
  'CODEBUILD_BUILD_ID',
  'BUILDKITE',
  'TEAMCITY_VERSION',
  'APPVEYOR',
  'BITBUCKET_BUILD_NUMBER',
];

/** Every file under `root`, relative, sorted. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

/** Run `node <args>` with a fresh HOME / XDG_CACHE_HOME, no ORT_DISABLE_TELEMETRY and no CI markers. */
async function inFreshHome(args: string[]): Promise<{ run: Run; written: string[] }> {
  const home = await mkdtemp(path.join(dir, 'home-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    HOME: home,
    XDG_CACHE_HOME: path.join(home, 'xdg-cache'),
    TMPDIR: path.join(dir),
  };
  delete env.ORT_DISABLE_TELEMETRY;
  for (const name of CI_MARKERS) delete env[name];
  const run = await new Promise<Run>((resolve) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT, env, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
  // tsx keeps its compile cache under TMPDIR, not HOME: what is left under HOME is onnxruntime's
  return { run, written: await filesUnder(home) };
}

const DEVICE_ID = /Microsoft\/DeveloperTools\/\.onnxruntime\/deviceid$/;

describe("onnxruntime's telemetry", () => {
  it('control: onnxruntime-node on its own writes a persistent device id (so the check below is live)', async () => {
    const script =
      "const ort = await import('onnxruntime-node');" +
      `await ort.InferenceSession.create(${JSON.stringify(requireTestModel())});`;
    const { run, written } = await inFreshHome(['--input-type=module', '-e', script]);
    expect(run.stderr).toBe('');
    expect(written).toEqual(expect.arrayContaining([expect.stringMatching(DEVICE_ID)]));
  });

  it('is off in an analysis through the library (LesionAnalyzer): nothing written under HOME', async () => {
    const script = [
      "import { readFile } from 'node:fs/promises';",
      "import { LesionAnalyzer } from './src/pipeline/analyzer.ts';",
      "import { loadConfig } from './src/config.ts';",
      `const config = { ...loadConfig(), modelPath: ${JSON.stringify(requireTestModel())}, executionProvider: 'cpu' };`,
      'const a = await LesionAnalyzer.create({ config });',
      "const r = await a.analyze(await readFile('samples/ISIC_0012099.jpg'), { id: 'x' });",
      'console.log(r.result.status, process.env.ORT_DISABLE_TELEMETRY);',
      'await a.dispose();',
    ].join('\n');
    const { run, written } = await inFreshHome(['--import', 'tsx', '--input-type=module', '-e', script]);
    expect(run.stdout.trim()).toBe('ok 1');
    expect(written).toEqual([]);
  });

  it('is off in the CLI (lesion analyze) and in the local run (npm start)', async () => {
    const out = path.join(dir, 'out');
    const cli = await inFreshHome([
      path.join(REPO_ROOT, 'bin', 'lesion.js'),
      'analyze',
      'samples/ISIC_0012099.jpg',
      '--out',
      path.join(out, 'cli'),
      '--provider',
      'cpu',
    ]);
    expect(cli.run.code).toBe(0);
    expect(cli.written).toEqual([]);
    const local = await inFreshHome([
      '--import',
      'tsx',
      'src/local/main.ts',
      '--out',
      path.join(out, 'local'),
    ]);
    expect(local.run.code).toBe(0);
    expect(local.written).toEqual([]);
  });

  it('respects an explicit operator choice (ORT_DISABLE_TELEMETRY set) and fills in only an unset one', async () => {
    const { disableOrtTelemetry } = await import('../../src/inference/no-telemetry.js');
    const unset: NodeJS.ProcessEnv = {};
    disableOrtTelemetry(unset);
    expect(unset.ORT_DISABLE_TELEMETRY).toBe('1');
    const empty: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: '' };
    disableOrtTelemetry(empty);
    expect(empty.ORT_DISABLE_TELEMETRY).toBe('1');
    const chosen: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: '0' };
    disableOrtTelemetry(chosen);
    expect(chosen.ORT_DISABLE_TELEMETRY).toBe('0');
  });
});
