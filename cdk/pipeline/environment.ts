/** The environment both analysis computes (Lambda and GPU worker) read (src/config.ts). */
import type * as events from 'aws-cdk-lib/aws-events';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { ResolvedLesionPipelineProps } from './props.js';

export function analysisEnvironment(
  props: ResolvedLesionPipelineProps,
  bucket: s3.IBucket,
  eventBus: events.IEventBus,
): Record<string, string> {
  return {
    LESION_UPLOADS_PREFIX: props.uploadsPrefix,
    LESION_RESULTS_PREFIX: props.resultsPrefix,
    LESION_RESULTS_BUCKET: bucket.bucketName,
    LESION_MAX_PIXELS: String(props.maxPixels),
    LESION_MAX_BYTES: String(props.maxBytes),
    LESION_OVERLAY_MAX_SIDE: String(props.overlayMaxSide),
    LESION_EVENT_BUS_NAME: eventBus.eventBusName,
    // the redrive policy's count: on that delivery a transient failure is answered with error.json
    LESION_MAX_RECEIVE_COUNT: String(props.maxReceiveCount),
    POWERTOOLS_SERVICE_NAME: props.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    LOG_LEVEL: props.logLevel,
    // onnxruntime's telemetry upload (Linux builds since 1.29) stays off: nothing leaves the account
    ORT_DISABLE_TELEMETRY: '1',
  };
}
