import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  assessHeartbeat,
  readHeartbeat,
  writeHeartbeat,
  type WorkerHeartbeat,
} from '../../src/service/health.js';

const MAX_AGE = 120_000;
const loadedAt = 1_000_000;
const beat = (over: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat => ({
  modelLoadedAt: loadedAt,
  lastPollOkAt: null,
  lastPollFailedAt: null,
  lastPollError: null,
  ...over,
});

describe('assessHeartbeat', () => {
  it.each([
    ['no heartbeat file', null, loadedAt, false, 'no heartbeat: the worker has not loaded its model'],
    ['not a heartbeat', { hello: 1 }, loadedAt, false, 'no heartbeat: the worker has not loaded its model'],
    [
      'just loaded, no poll yet',
      beat(),
      loadedAt + 30_000,
      true,
      'model loaded 30 s ago, first poll pending',
    ],
    [
      'no poll within the window after loading',
      beat(),
      loadedAt + 121_000,
      false,
      'no successful poll in the 121 s since the model loaded',
    ],
    [
      'polled 55 s ago',
      beat({ lastPollOkAt: loadedAt + 5_000 }),
      loadedAt + 60_000,
      true,
      'last successful poll 55 s ago',
    ],
    [
      'polled exactly at the limit',
      beat({ lastPollOkAt: loadedAt }),
      loadedAt + MAX_AGE,
      true,
      'last successful poll 120 s ago',
    ],
    [
      'the queue stopped answering',
      beat({ lastPollOkAt: loadedAt, lastPollFailedAt: loadedAt + 200_000, lastPollError: 'AccessDenied' }),
      loadedAt + 200_500,
      false,
      'last successful poll 201 s ago (last poll error: AccessDenied)',
    ],
  ])('%s', (_what, heartbeat, now, healthy, reason) => {
    expect(assessHeartbeat(heartbeat, now, MAX_AGE)).toEqual({ healthy, reason });
  });
});

describe('heartbeat file', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'lesion-health-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips, and a missing or torn file reads as no heartbeat', async () => {
    const file = path.join(dir, 'health.json');
    expect(await readHeartbeat(file)).toBeNull();
    await writeHeartbeat(file, beat({ lastPollOkAt: 5 }));
    expect(await readHeartbeat(file)).toEqual(beat({ lastPollOkAt: 5 }));
    await writeFile(file, '{"modelLoadedAt": 1, "lastPo');
    expect(await readHeartbeat(file)).toBeNull();
  });
});
