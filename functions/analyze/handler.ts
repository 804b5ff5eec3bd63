// Lambda entry: S3 ObjectCreated → SQS → this function. Only wiring lives here; the logic is
// src/service/sqs-batch.ts, shared with the GPU worker and the local run.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../../src/config.js';
import { getSharedAnalyzer } from '../../src/pipeline/analyzer.js';
import { createEventBridgePublisher } from '../../src/service/publish.js';
import { handleSqsEvent } from '../../src/service/sqs-batch.js';
import { DEFAULT_METRICS_NAMESPACE, MetricName } from '../../src/service/metric-names.js';
import { observeWith } from '../../src/service/telemetry.js';
import { createS3Client, S3ObjectStore } from '../../src/storage/s3.js';

// The environment (POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, set by the CDK stack)
// wins; the fallbacks name local runs. An explicit option would override the environment.
const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'lesion-analyze';
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE;
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace, serviceName });
const config = loadConfig();
const store = new S3ObjectStore(createS3Client());
const publisher = config.eventBusName ? createEventBridgePublisher(config.eventBusName) : undefined;
// Load the model during init: a corrupt model fails the cold start once, loudly, instead of
// failing every message.
const analyzer = await getSharedAnalyzer({ config });
logger.info('model loaded', { model: analyzer.modelInfo });

async function core(event: SQSEvent): Promise<SQSBatchResponse> {
  const response = await handleSqsEvent(
    event,
    { analyzer, store, config, publisher },
    observeWith(logger, metrics),
  );
  metrics.addMetric(MetricName.RETRIED_MESSAGES, MetricUnit.Count, response.batchItemFailures.length);
  return response;
}

export const handler = middy(core)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
