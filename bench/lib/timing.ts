import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

/** Run `fn` `warmup` times untimed, then `iters` times; returns each timed run's milliseconds. */
export async function timeRuns(
  fn: () => Promise<unknown>,
  opts: { warmup: number; iters: number },
): Promise<number[]> {
  for (let i = 0; i < opts.warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < opts.iters; i++) {
    const t0 = now();
    await fn();
    out.push(now() - t0);
  }
  return out;
}

/**
 * Run `fn` untimed `warmup` times, then repeatedly until both `minMs` of timed work and
 * `minIters` runs are done (never more than `maxIters`).
 */
export async function timeFor(
  fn: () => Promise<unknown>,
  opts: { warmup: number; minMs: number; minIters: number; maxIters?: number },
): Promise<number[]> {
  for (let i = 0; i < opts.warmup; i++) await fn();
  const out: number[] = [];
  let total = 0;
  const max = opts.maxIters ?? 10_000;
  while ((total < opts.minMs || out.length < opts.minIters) && out.length < max) {
    const t0 = now();
    await fn();
    const ms = now() - t0;
    out.push(ms);
    total += ms;
  }
  return out;
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Spawn → exit, milliseconds. */
  readonly wallMs: number;
  /** Spawn → first stdout line matching `marker`, when given and seen. */
  readonly markerMs: number | null;
  readonly timedOut: boolean;
}

/**
 * Spawn a process and wait for it, timing spawn → exit and spawn → the first stdout line that
 * starts with `marker`. The child is killed (by its own pid) after `timeoutMs`.
 */
export function runChild(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; marker?: string },
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    let markerMs: number | null = null;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (markerMs === null && opts.marker && stdout.split('\n').some((l) => l.startsWith(opts.marker!)))
        markerMs = now() - t0;
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, wallMs: now() - t0, markerMs, timedOut });
    });
  });
}

/** The JSON after `marker` on the last line that carries it (stdout or stderr of a child), or null. */
export function markedJson<T>(text: string, marker: string): T | null {
  const lines = text.split('\n').filter((l) => l.startsWith(marker));
  const last = lines.at(-1);
  if (!last) return null;
  try {
    return JSON.parse(last.slice(marker.length)) as T;
  } catch {
    return null;
  }
}
