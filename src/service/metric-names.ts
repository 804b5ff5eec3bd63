// Metric names and namespace: free of the AWS SDK and Powertools, so cdk/ imports them too.

/** Namespace when POWERTOOLS_METRICS_NAMESPACE is unset; the stack sets the same by default. */
export const DEFAULT_METRICS_NAMESPACE = 'LesionMtl';

/**
 * The CloudWatch metrics (EMF, namespace POWERTOOLS_METRICS_NAMESPACE, default below). Their
 * names are public: dashboards and alarms use them, and cdk/README.md lists them (a test checks).
 * One spelling, as in every identifier here: `analyze`. `ImagesAnalyzed` was `ImagesAnalysed`
 * until 2026-12-04.
 */
export const MetricName = {
  IMAGES_ANALYZED: 'ImagesAnalyzed',
  ANALYSIS_LATENCY: 'AnalysisLatency',
  IMAGES_REJECTED: 'ImagesRejected',
  DUPLICATE_DELIVERIES: 'DuplicateDeliveries',
  TRANSIENT_FAILURES: 'TransientFailures',
  GAVE_UP_UPLOADS: 'GaveUpUploads',
  GIVE_UP_FAILURES: 'GiveUpFailures',
  MALFORMED_MESSAGES: 'MalformedMessages',
  /** Lambda only: messages handed back to SQS in one invocation. */
  RETRIED_MESSAGES: 'RetriedMessages',
  /** GPU worker only, per batch. */
  BATCH_SIZE: 'BatchSize',
  WORKER_IMAGES_PER_SECOND: 'WorkerImagesPerSecond',
  QUEUE_AGE_AT_PICKUP: 'QueueAgeAtPickup',
} as const;
