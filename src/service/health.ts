// The GPU worker's health, judged from outside the process: after every poll the worker writes a
// small heartbeat file, and the container health check (functions/gpu-worker/healthcheck.ts,
// run by ECS) reads it. A worker whose model did not load never writes one; a worker that can
// no longer poll its queue stops refreshing it. Either way ECS replaces the task.
import { readFile, rename, writeFile } from 'node:fs/promises';

/** Where the worker writes its heartbeat unless LESION_HEALTH_FILE names another file. */
export const DEFAULT_HEALTH_FILE = '/tmp/lesion-worker-health.json';
export const HEALTH_FILE_ENV = 'LESION_HEALTH_FILE';

/**
 * How old the last successful poll may be. A poll waits up to 20 s and a batch is bounded by the
 * per-upload time budget, so two minutes without one means the loop is stuck or the queue is
 * unreachable.
 */
export const DEFAULT_MAX_POLL_AGE_MS = 120_000;

export interface WorkerHeartbeat {
  /** When the model session was ready (ms since the epoch). */
  readonly modelLoadedAt: number;
  /** Last receive that answered, empty or not; null until the first one. */
  readonly lastPollOkAt: number | null;
  /** Last receive that failed, and why (for the operator reading the check's output). */
  readonly lastPollFailedAt: number | null;
  readonly lastPollError: string | null;
}

export interface HealthVerdict {
  readonly healthy: boolean;
  readonly reason: string;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

function isHeartbeat(v: unknown): v is WorkerHeartbeat {
  const h = v as Partial<WorkerHeartbeat> | null;
  return typeof h === 'object' && h !== null && typeof h.modelLoadedAt === 'number';
}

/**
 * Healthy = the model is loaded and the queue answered a poll within `maxPollAgeMs` (a worker
 * that has not polled yet gets that long from its model load).
 *
 * @example
 * assessHeartbeat({ modelLoadedAt: 0, lastPollOkAt: 5_000, lastPollFailedAt: null, lastPollError: null }, 60_000, 120_000)
 * // → { healthy: true, reason: 'last successful poll 55 s ago' }
 */
export function assessHeartbeat(heartbeat: unknown, now: number, maxPollAgeMs: number): HealthVerdict {
  if (!isHeartbeat(heartbeat))
    return { healthy: false, reason: 'no heartbeat: the worker has not loaded its model' };
  const failure = heartbeat.lastPollError ? ` (last poll error: ${heartbeat.lastPollError})` : '';
  if (heartbeat.lastPollOkAt === null) {
    const since = now - heartbeat.modelLoadedAt;
    return since <= maxPollAgeMs
      ? { healthy: true, reason: `model loaded ${seconds(since)} ago, first poll pending${failure}` }
      : {
          healthy: false,
          reason: `no successful poll in the ${seconds(since)} since the model loaded${failure}`,
        };
  }
  const age = now - heartbeat.lastPollOkAt;
  return age <= maxPollAgeMs
    ? { healthy: true, reason: `last successful poll ${seconds(age)} ago` }
    : { healthy: false, reason: `last successful poll ${seconds(age)} ago${failure}` };
}

/** Write the heartbeat atomically (a reader never sees half a file). */
export async function writeHeartbeat(file: string, heartbeat: WorkerHeartbeat): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(heartbeat));
  await rename(tmp, file);
}

/** The heartbeat as written, or null when there is none (or it cannot be parsed). */
export async function readHeartbeat(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}
