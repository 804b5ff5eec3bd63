/** Every default of LesionPipeline, and the one place they are merged into the props. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  DEFAULT_CONFIG,
  DEFAULT_LAMBDA_BATCH_SIZE,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_WORKER_MAX_BATCH,
} from '../../src/config.js';
import { DEFAULT_DOWNLOAD_URL_TTL_SECONDS, DEFAULT_UPLOAD_URL_TTL_SECONDS } from '../../src/api/config.js';
import { DEFAULT_METRICS_NAMESPACE } from '../../src/service/metric-names.js';
import {
  DEFAULT_BACKLOG_DRAIN_SECONDS,
  GPU_TASK_IMAGES_PER_SECOND_ESTIMATE,
  LAMBDA_MB_PER_VCPU,
} from '../capacity.js';
import { ApiAuthorization, ComputeOption, LambdaPackaging } from './constants.js';
import type { LesionPipelineProps, ResolvedLesionPipelineProps } from './props.js';

/** Every default, in one place (the README's "Default settings" table mirrors it). */
export const LESION_PIPELINE_DEFAULTS = {
  compute: ComputeOption.GPU,
  // the pipeline's own defaults (src/config.ts): what a deploy and a local run share
  uploadsPrefix: DEFAULT_CONFIG.uploadsPrefix,
  resultsPrefix: DEFAULT_CONFIG.resultsPrefix,
  resultsExpiration: Duration.days(365),
  noncurrentVersionExpiration: Duration.days(30),
  accessLogsExpiration: Duration.days(365),
  removalPolicy: RemovalPolicy.RETAIN,
  logsRemovalPolicy: RemovalPolicy.DESTROY,
  maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
  visibilityTimeoutFactor: 6,
  queueAgeAlarmThreshold: Duration.minutes(15),
  lambdaPackaging: LambdaPackaging.ZIP,
  memorySize: 3008,
  functionTimeout: Duration.seconds(60),
  batchSize: DEFAULT_LAMBDA_BATCH_SIZE,
  maxConcurrency: 10,
  tracing: false,
  logRetention: logs.RetentionDays.ONE_MONTH,
  logLevel: 'INFO',
  maxPixels: DEFAULT_CONFIG.maxPixels,
  maxBytes: DEFAULT_CONFIG.maxBytes,
  overlayMaxSide: DEFAULT_CONFIG.overlayMaxSide,
  eventBusName: 'lesion-analysis',
  serviceName: 'lesion-mtl',
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
  gpuInstanceType: 'g5.xlarge',
  gpuMaxInstances: 2,
  gpuImagesPerSecondPerTask: GPU_TASK_IMAGES_PER_SECOND_ESTIMATE,
  gpuBacklogDrainTime: Duration.seconds(DEFAULT_BACKLOG_DRAIN_SECONDS),
  gpuMaxBatch: DEFAULT_WORKER_MAX_BATCH,
  gpuTaskMemoryMiB: 12_288,
  gpuRootVolumeGiB: 100,
  natGateways: 0,
  azCount: 2,
  api: {
    authorization: ApiAuthorization.IAM,
    throttle: { rateLimit: 50, burstLimit: 100 },
    uploadUrlTtl: Duration.seconds(DEFAULT_UPLOAD_URL_TTL_SECONDS),
    downloadUrlTtl: Duration.seconds(DEFAULT_DOWNLOAD_URL_TTL_SECONDS),
    memorySize: 256,
    timeout: Duration.seconds(10),
  },
} as const;

/**
 * The props with LESION_PIPELINE_DEFAULTS applied (call after validation). Derived defaults:
 * visibilityTimeout = 6 x functionTimeout, intraOpThreads = the vCPUs of memorySize (1-6).
 */
export function withDefaults(props: LesionPipelineProps): ResolvedLesionPipelineProps {
  const d = LESION_PIPELINE_DEFAULTS;
  const functionTimeout = props.functionTimeout ?? d.functionTimeout;
  const memorySize = props.memorySize ?? d.memorySize;
  const api = props.api || {};
  return {
    ...props,
    compute: props.compute ?? d.compute,
    uploadsPrefix: props.uploadsPrefix ?? d.uploadsPrefix,
    resultsPrefix: props.resultsPrefix ?? d.resultsPrefix,
    resultsExpiration: props.resultsExpiration ?? d.resultsExpiration,
    noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? d.noncurrentVersionExpiration,
    accessLogsExpiration: props.accessLogsExpiration ?? d.accessLogsExpiration,
    removalPolicy: props.removalPolicy ?? d.removalPolicy,
    logsRemovalPolicy: props.logsRemovalPolicy ?? d.logsRemovalPolicy,
    maxReceiveCount: props.maxReceiveCount ?? d.maxReceiveCount,
    visibilityTimeout:
      props.visibilityTimeout ?? Duration.seconds(d.visibilityTimeoutFactor * functionTimeout.toSeconds()),
    queueAgeAlarmThreshold: props.queueAgeAlarmThreshold ?? d.queueAgeAlarmThreshold,
    lambdaPackaging: props.lambdaPackaging ?? d.lambdaPackaging,
    memorySize,
    functionTimeout,
    maxConcurrency: props.maxConcurrency ?? d.maxConcurrency,
    batchSize: props.batchSize ?? d.batchSize,
    tracing: props.tracing ?? d.tracing,
    logRetention: props.logRetention ?? d.logRetention,
    logLevel: props.logLevel ?? d.logLevel,
    intraOpThreads:
      props.intraOpThreads ?? Math.min(6, Math.max(1, Math.ceil(memorySize / LAMBDA_MB_PER_VCPU))),
    maxPixels: props.maxPixels ?? d.maxPixels,
    maxBytes: props.maxBytes ?? d.maxBytes,
    overlayMaxSide: props.overlayMaxSide ?? d.overlayMaxSide,
    api:
      props.api === false
        ? false
        : {
            ...api,
            authorization: api.authorization ?? d.api.authorization,
            throttle: api.throttle ?? d.api.throttle,
            uploadUrlTtl: api.uploadUrlTtl ?? d.api.uploadUrlTtl,
            downloadUrlTtl: api.downloadUrlTtl ?? d.api.downloadUrlTtl,
          },
    eventBusName: props.eventBusName ?? d.eventBusName,
    serviceName: props.serviceName ?? d.serviceName,
    metricsNamespace: props.metricsNamespace ?? d.metricsNamespace,
    gpuInstanceType: props.gpuInstanceType ?? new ec2.InstanceType(d.gpuInstanceType),
    gpuMaxInstances: props.gpuMaxInstances ?? d.gpuMaxInstances,
    gpuImagesPerSecondPerTask: props.gpuImagesPerSecondPerTask ?? d.gpuImagesPerSecondPerTask,
    gpuBacklogDrainTime: props.gpuBacklogDrainTime ?? d.gpuBacklogDrainTime,
    gpuMaxBatch: props.gpuMaxBatch ?? d.gpuMaxBatch,
    gpuTaskMemoryMiB: props.gpuTaskMemoryMiB ?? d.gpuTaskMemoryMiB,
    gpuRootVolumeGiB: props.gpuRootVolumeGiB ?? d.gpuRootVolumeGiB,
    natGateways: props.natGateways ?? d.natGateways,
  };
}
