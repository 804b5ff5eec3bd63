/**
 * GPU worker crash: QueueWorker over an in-memory queue with SQS semantics (undeleted messages
 * reappear after the visibility timeout). Worker 1 dies in the middle of writing its first batch
 * (every store call fails from the first mask.png on, as for a killed process); worker 2 drains
 * the queue. Every upload must end with exactly one result.json and exactly one event.
 */
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import type { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import { MemoryPublisher } from '../../src/service/publish.js';
import { QueueWorker } from '../../src/service/worker.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { FaultyStore } from '../helpers/faults.js';
import { fixtures, readSamples } from '../helpers/images.js';
import { MemoryQueue } from '../helpers/memory-queue.js';
import { createTestAnalyzer } from '../helpers/model.js';
import { listAll, resultsByImageId } from '../helpers/s3.js';
import { s3NotificationBody } from '../helpers/sqs.js';

let analyzer: LesionAnalyzer;
let s3: LocalS3;

beforeAll(async () => {
  analyzer = await createTestAnalyzer();
  s3 = await startLocalS3({ bucket: 'gpu-worker' });
});

afterAll(async () => {
  await s3.stop();
  await analyzer.dispose();
});

describe('QueueWorker killed mid-batch', () => {
  it('loses nothing and duplicates nothing when a second worker takes over', async () => {
    // Prepare: 8 good uploads and 1 bad one, all notified on the queue
    const samples = await readSamples();
    const base = new S3ObjectStore(s3.client);
    const queue = new MemoryQueue(5);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = `crash-${i}.jpg`;
      await base.put(s3.bucket, `uploads/${id}`, samples[i % samples.length]!.bytes, 'image/jpeg');
      queue.send(s3NotificationBody(s3.bucket, `uploads/${id}`));
      ids.push(id);
    }
    await base.put(s3.bucket, 'uploads/crash-bad.jpg', fixtures.text(), 'image/jpeg');
    queue.send(s3NotificationBody(s3.bucket, 'uploads/crash-bad.jpg'));
    ids.push('crash-bad.jpg');
    const publisher = new MemoryPublisher();

    // Act 1: worker 1 takes a batch of 4 and dies after its first mask.png write
    const dying = new FaultyStore(base).crashAfter('put', (k) => k.endsWith('/mask.png'));
    const worker1 = new QueueWorker(
      queue,
      { analyzer, store: dying, config: analyzer.config, publisher },
      { maxBatch: 4, waitSeconds: 0 },
    );
    await expect(worker1.runOnce()).rejects.toThrow('simulated crash: worker killed');
    expect(dying.dead).toBe(true);
    expect(queue.inFlight).toBe(4); // nothing deleted: the batch will reappear
    const partial = resultsByImageId(
      (await listAll(s3.client, s3.bucket, 'results/')).map((o) => o.key),
      'results/',
    );
    expect([...partial.values()].flat()).toContain('mask.png'); // it really died mid-write
    expect([...partial.values()].flat()).not.toContain('result.json');

    // Act 2: the visibility timeout passes; a fresh worker drains the queue
    queue.expireVisibility();
    const store = new FaultyStore(base);
    const worker2 = new QueueWorker(
      queue,
      { analyzer, store, config: analyzer.config, publisher },
      { maxBatch: 4, waitSeconds: 0 },
    );
    for (let i = 0; i < 10 && queue.visible + queue.inFlight > 0; i++) await worker2.runOnce();

    // Assess: queue empty, nothing dead-lettered, one result (or error) and one event per upload
    expect([queue.visible, queue.inFlight, queue.deadLetters.length]).toEqual([0, 0, 0]);
    const results = resultsByImageId(
      (await listAll(s3.client, s3.bucket, 'results/')).map((o) => o.key),
      'results/',
    );
    expect([...results.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const names = results.get(id)!;
      const answers = names.filter((n) => n === 'result.json' || n === 'error.json');
      expect({ id, answers }).toEqual({
        id,
        answers: [id === 'crash-bad.jpg' ? 'error.json' : 'result.json'],
      });
      expect(
        store.written().filter((k) => k === `results/${id}/result.json` || k === `results/${id}/error.json`),
      ).toHaveLength(1);
    }
    const perId = new Map<string, number>();
    for (const e of publisher.events) perId.set(e.detail.imageId, (perId.get(e.detail.imageId) ?? 0) + 1);
    expect([...perId.entries()].sort()).toEqual(ids.map((id) => [id, 1]).sort());
  });

  it('stop() during a batch lets that batch finish, then the loop ends', async () => {
    const base = new S3ObjectStore(s3.client);
    const queue = new MemoryQueue();
    const samples = await readSamples();
    for (let i = 0; i < 3; i++) {
      await base.put(s3.bucket, `uploads/stop-${i}.jpg`, samples[0]!.bytes, 'image/jpeg');
      queue.send(s3NotificationBody(s3.bucket, `uploads/stop-${i}.jpg`));
    }
    // signal the moment the batch starts writing results (it is then mid-flight)
    let writing!: () => void;
    const firstWrite = new Promise<void>((r) => (writing = r));
    const store: typeof base = Object.assign(Object.create(base) as S3ObjectStore, {
      put: (...args: Parameters<S3ObjectStore['put']>) => {
        writing();
        return base.put(...args);
      },
    });
    const publisher = new MemoryPublisher();
    const errors: unknown[] = [];
    const worker = new QueueWorker(
      queue,
      { analyzer, store, config: analyzer.config, publisher },
      { maxBatch: 16, waitSeconds: 1, onError: (e) => errors.push(e) },
    );
    const running = worker.run();
    await firstWrite;
    expect(publisher.events.length).toBeLessThan(3);
    await worker.stop();
    await running;
    expect(errors).toEqual([]);
    expect([queue.visible, queue.inFlight]).toEqual([0, 0]); // finished and deleted, not abandoned
    expect(publisher.events.map((e) => e.detail.imageId).sort()).toEqual([
      'stop-0.jpg',
      'stop-1.jpg',
      'stop-2.jpg',
    ]);
  });
});
