/**
 * Working containers of the images `npm run test:images` built, run with `buildah run`
 * (chroot isolation, the host's network: a process inside reaches s3rver on 127.0.0.1).
 * `buildah run` does not forward signals, so `signal()` finds the command's own process among
 * the descendants of `buildah run` (chroot isolation shares the host's process table).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface ImageConfig {
  readonly cmd: string[];
  readonly user: string;
  readonly workingDir: string;
  readonly env: Record<string, string>;
  readonly healthcheck: string[] | null;
  readonly sizeBytes: number;
}

export async function imageConfig(image: string): Promise<ImageConfig> {
  const { stdout } = await exec('buildah', ['inspect', '--type', 'image', image], { maxBuffer: 64 << 20 });
  const info = JSON.parse(stdout) as {
    OCIv1: { config: { Cmd?: string[]; User?: string; WorkingDir?: string; Env?: string[] } };
    Docker?: { config?: { Healthcheck?: { Test?: string[] } } };
  };
  const c = info.OCIv1.config;
  // buildah reports sizes as text ("335 MB"); podman, on the same storage, in bytes
  const size = (await exec('podman', ['image', 'inspect', '--format', '{{.Size}}', image])).stdout;
  return {
    cmd: c.Cmd ?? [],
    user: c.User ?? '',
    workingDir: c.WorkingDir ?? '/',
    env: Object.fromEntries(
      (c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    ),
    healthcheck: info.Docker?.config?.Healthcheck?.Test ?? null,
    sizeBytes: Number(size.trim()),
  };
}

export class WorkingContainer {
  private constructor(readonly name: string) {}

  static async from(image: string): Promise<WorkingContainer> {
    const { stdout } = await exec('buildah', ['from', '--pull=never', image]);
    return new WorkingContainer(stdout.trim());
  }

  private args(cmd: readonly string[], env: Record<string, string>): string[] {
    const e = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    return ['run', '--isolation', 'chroot', ...e, this.name, '--', ...cmd];
  }

  /** Run to completion; never throws on a non-zero exit (the caller asserts the code). */
  async run(
    cmd: readonly string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await exec('buildah', this.args(cmd, env), { maxBuffer: 64 << 20 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof err.code === 'number' ? err.code : -1,
        stdout: err.stdout ?? '',
        stderr: err.stderr ?? '',
      };
    }
  }

  /** Start a long-running command; `output()` is its stdout + stderr so far. */
  start(cmd: readonly string[], env: Record<string, string>): RunningCommand {
    const child = spawn('buildah', this.args(cmd, env), { stdio: ['ignore', 'pipe', 'pipe'] });
    return new RunningCommand(child, cmd[0]!);
  }

  async remove(): Promise<void> {
    await exec('buildah', ['rm', this.name]).catch(() => undefined);
  }
}

export class RunningCommand {
  private out = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    private readonly program: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Send `signal` to the command itself (not to buildah, which would kill it outright). */
  signal(signal: NodeJS.Signals): void {
    const pid = descendants(this.child.pid!).find((p) => commName(p) === this.program);
    if (pid === undefined) throw new Error(`no ${this.program} process under buildah run ${this.child.pid}`);
    process.kill(pid, signal);
  }
}

function parentOf(pid: number): number | null {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function commName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Every live process below `root`, nearest first. */
function descendants(root: number): number[] {
  const pids = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next = pids.filter((p) => frontier.includes(parentOf(p) ?? -1));
    found.push(...next);
    frontier = next;
  }
  return found;
}
