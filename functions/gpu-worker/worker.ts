// GPU worker entry (ECS service on GPU instances): long-polls the same queue the Lambda reads
// and batches queued images into one CUDA inference. Only wiring lives here.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_WORKER_MAX_BATCH, loadConfig, WORKER_ENV } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { LesionAnalyzer } from '../../src/pipeline/analyzer.js';
import {
  DEFAULT_HEALTH_FILE,
  HEALTH_FILE_ENV,
  writeHeartbeat,
  type WorkerHeartbeat,
} from '../../src/service/health.js';
import { createEventBridgePublisher } from '../../src/service/publish.js';
import { SqsMessageQueue } from '../../src/service/sqs-queue.js';
import { DEFAULT_METRICS_NAMESPACE, MetricName } from '../../src/service/metric-names.js';
import { observeWith } from '../../src/service/telemetry.js';
import { QueueWorker, type BatchStats } from '../../src/service/worker.js';
import { createS3Client, S3ObjectStore } from '../../src/storage/s3.js';

// The environment (POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, set by the CDK stack)
// wins; the fallbacks name local runs. An explicit option would override the environment.
const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'lesion-gpu-worker';
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE;
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace, serviceName });
const healthFile = process.env[HEALTH_FILE_ENV] || DEFAULT_HEALTH_FILE;

/** One structured log line and the scaling/operator metrics per batch. */
function reportBatch(stats: BatchStats): void {
  logger.info('batch', { ...stats });
  metrics.addMetric(MetricName.BATCH_SIZE, MetricUnit.Count, stats.messages);
  metrics.addMetric(MetricName.WORKER_IMAGES_PER_SECOND, MetricUnit.CountPerSecond, stats.imagesPerSecond);
  if (stats.queueAgeMs)
    metrics.addMetric(MetricName.QUEUE_AGE_AT_PICKUP, MetricUnit.Milliseconds, stats.queueAgeMs.max);
}

async function main(): Promise<void> {
  const queueUrl = process.env[WORKER_ENV.queueUrl];
  if (!queueUrl)
    throw new ConfigError(`${WORKER_ENV.queueUrl} is not set: the worker needs the queue to poll`);
  const maxBatch = Number(process.env[WORKER_ENV.maxBatch] || DEFAULT_WORKER_MAX_BATCH);
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new ConfigError(
      `${WORKER_ENV.maxBatch}=${process.env[WORKER_ENV.maxBatch]}: expected an integer >= 1`,
    );
  const config = loadConfig();
  // A corrupt or missing model stops the worker here, before it takes any message (and before
  // any heartbeat exists, so the container health check fails too).
  const analyzer = await LesionAnalyzer.create({ config });
  logger.info('worker ready', { model: analyzer.modelInfo, maxBatch });
  let heartbeat: WorkerHeartbeat = {
    modelLoadedAt: Date.now(),
    lastPollOkAt: null,
    lastPollFailedAt: null,
    lastPollError: null,
  };
  const beat = (next: Partial<WorkerHeartbeat>) => {
    heartbeat = { ...heartbeat, ...next };
    writeHeartbeat(healthFile, heartbeat).catch((e: unknown) =>
      logger.error('cannot write the health file', { healthFile, error: String(e) }),
    );
  };
  beat({});
  const worker = new QueueWorker(
    new SqsMessageQueue(new SQSClient({}), queueUrl),
    {
      analyzer,
      store: new S3ObjectStore(createS3Client()),
      config,
      publisher: config.eventBusName ? createEventBridgePublisher(config.eventBusName) : undefined,
    },
    {
      maxBatch,
      observer: observeWith(logger, metrics),
      onPolled: (at) => beat({ lastPollOkAt: at }),
      onBatch: reportBatch,
      onError: (e) => {
        beat({ lastPollFailedAt: Date.now(), lastPollError: String(e) });
        logger.error('batch failed; messages will be redelivered', { error: String(e) });
      },
    },
  );
  const shutdown = async (signal: string) => {
    logger.info('stopping after the batch in flight', { signal });
    await worker.stop();
    metrics.publishStoredMetrics();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  setInterval(() => metrics.publishStoredMetrics(), 60_000).unref();
  await worker.run();
}

main().catch((e) => {
  logger.error('worker failed to start', { error: String(e), cause: String((e as Error).cause ?? '') });
  process.exit(1);
});
