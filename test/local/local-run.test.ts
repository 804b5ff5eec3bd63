/**
 * Issue 17 item 5: the local run on a long file name. s3rver keeps each key segment as a file
 * name; a segment over 255 bytes made its write stream fail with ENAMETOOLONG, an unhandled
 * 'error' event that killed `npm start` and left its temporary folder behind. Now the local
 * server answers such a key as S3 answers a key it refuses (400 KeyTooLongError), the local run
 * answers the file with a KEY_REJECTED row and analyses the others, and the temporary folder is
 * removed however the process ends. Real s3rver, the real local run (a child process), real model.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_MAX_SEGMENT_BYTES, localKeyProblem, startLocalS3 } from '../../src/local/s3-server.js';
import { REPO_ROOT } from '../helpers/model.js';
import { getBytes } from '../helpers/s3.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node --import tsx <args>` in the repository, with its own TMPDIR. */
function node(args: string[], tmp: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ...args],
      { cwd: REPO_ROOT, timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '', TMPDIR: tmp } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lesion-local-run-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('localKeyProblem', () => {
  it('accepts segments up to 233 bytes and keys up to 1,024 bytes', () => {
    expect(LOCAL_MAX_SEGMENT_BYTES).toBe(233); // 255 - '._S3rver_metadata.json'.length (22)
    expect(localKeyProblem(`uploads/${'a'.repeat(229)}.jpg`)).toBeNull(); // 233
    expect(localKeyProblem(`uploads/${'ë'.repeat(116)}/x.jpg`)).toBeNull(); // 232 bytes
    const key = Array.from({ length: 5 }, () => 'b'.repeat(200)).join('/') + '/' + 'c'.repeat(19); // 1,024
    expect(localKeyProblem(key)).toBeNull();
  });

  it('names the problem of a longer segment or key', () => {
    expect(localKeyProblem(`uploads/${'a'.repeat(230)}.jpg`)).toMatch(/segment of 234 bytes.*at most 233/);
    expect(localKeyProblem(`uploads/${'ë'.repeat(117)}/x.jpg`)).toMatch(/segment of 234 bytes/);
    const key = Array.from({ length: 5 }, () => 'b'.repeat(200)).join('/') + '/' + 'c'.repeat(20);
    expect(localKeyProblem(key)).toBe('the key is 1025 bytes; S3 allows 1024');
  });
});

describe('the local S3 server', () => {
  it('answers a key it cannot store with 400 KeyTooLongError and keeps serving', async () => {
    const s3 = await startLocalS3();
    try {
      const put = (Key: string) =>
        s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: 'x' }));
      for (const key of [`uploads/${'a'.repeat(250)}.jpg`, `uploads/${'b/'.repeat(600)}x.jpg`]) {
        await expect(put(key)).rejects.toMatchObject({
          name: 'KeyTooLongError',
          $metadata: { httpStatusCode: 400 },
        });
      }
      await put('uploads/after.jpg');
      expect((await getBytes(s3.client, s3.bucket, 'uploads/after.jpg')).toString()).toBe('x');
    } finally {
      await s3.stop();
    }
    expect(existsSync(s3.directory)).toBe(false);
  });

  it('removes its temporary folder when the process dies of an uncaught error', async () => {
    const tmp = await mkdtemp(path.join(dir, 'tmp-'));
    const script = [
      "import { startLocalS3 } from './src/local/s3-server.ts';",
      'const s3 = await startLocalS3();',
      'console.log(s3.directory);',
      "setTimeout(() => { throw new Error('crash'); }, 10);",
    ].join('\n');
    const run = await node(['--input-type=module', '-e', script], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('crash');
    const created = run.stdout.trim();
    expect(created.startsWith(tmp)).toBe(true);
    expect(existsSync(created)).toBe(false);
    expect((await readdir(tmp)).filter((f) => f.startsWith('lesion-s3-'))).toEqual([]);
  });
});

describe('npm start on a folder with a 245-character file name', () => {
  it('answers that file with KEY_REJECTED, analyses the others, exits 0 and leaves no temporary folder', async () => {
    const input = path.join(dir, 'photos');
    await mkdir(input);
    const long = `${'a'.repeat(241)}.jpg`;
    const sample = path.join(REPO_ROOT, 'samples', 'ISIC_0012099.jpg');
    await copyFile(sample, path.join(input, long));
    await copyFile(sample, path.join(input, 'ISIC_0012099.jpg'));
    const tmp = await mkdtemp(path.join(dir, 'tmp-'));

    const run = await node(['src/local/main.ts', input, '--out', path.join(dir, 'out')], tmp);

    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `not uploaded: ${long}: The file name cannot be used as a key in the local run`,
    );
    const rows = run.stdout.split('\n');
    expect(rows.find((r) => r.startsWith(long))).toMatch(/\berror\b.*KEY_REJECTED/);
    expect(rows.find((r) => r.startsWith('ISIC_0012099.jpg'))).toMatch(/^ISIC_0012099\.jpg\s+ok\b/);
    expect((await readdir(tmp)).filter((f) => f.startsWith('lesion-s3-'))).toEqual([]);
  });
});
