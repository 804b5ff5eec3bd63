/** The environment both analysis computes (Lambda and GPU worker) read (src/config.ts). */
import type * as events from 'aws-cdk-lib/aws-events';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { ENV } from '../../src/config.js';
import type { ResolvedLesionPipelineProps } from './props.js';

export function analysisEnvironment(
  props: ResolvedLesionPipelineProps,
  bucket: s3.IBucket,
  eventBus: events.IEventBus,
): Record<string, string> {
  return {
    [ENV.uploadsPrefix]: props.uploadsPrefix,
    [ENV.resultsPrefix]: props.resultsPrefix,
    [ENV.resultsBucket]: bucket.bucketName,
    [ENV.maxPixels]: String(props.maxPixels),
    [ENV.maxBytes]: String(props.maxBytes),
    [ENV.overlayMaxSide]: String(props.overlayMaxSide),
    [ENV.eventBusName]: eventBus.eventBusName,
    // the redrive policy's count: on that delivery a transient failure is answered with error.json
    [ENV.maxReceiveCount]: String(props.maxReceiveCount),
    POWERTOOLS_SERVICE_NAME: props.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    LOG_LEVEL: props.logLevel,
    // onnxruntime's telemetry upload (Linux builds since 1.29) stays off: nothing leaves the account
    ORT_DISABLE_TELEMETRY: '1',
  };
}
