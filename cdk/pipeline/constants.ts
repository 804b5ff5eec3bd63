/** Fixed values of the pipeline: names, paths, routes and AWS limits (no defaults: see defaults.ts). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { NATIVE_MODULES } from '../../scripts/bundle.js';
import { DetailType, EVENT_SOURCE } from '../../src/results/completion-event.js';
import { SQS_MAX_MESSAGES_PER_CALL } from '../../src/service/sqs-limits.js';
import { MAX_PRESIGN_SECONDS } from '../../src/storage/s3-limits.js';

/** Repository root (this file sits in cdk/pipeline/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Which compute consumes the upload queue. */
export const ComputeOption = { CPU: 'cpu', GPU: 'gpu', BOTH: 'both' } as const;
export type ComputeOption = (typeof ComputeOption)[keyof typeof ComputeOption];
export const COMPUTE_OPTIONS: readonly ComputeOption[] = Object.values(ComputeOption);

/** How the Lambda function ships: a zip + two layers, or the container image of functions/analyze/Dockerfile. */
export const LambdaPackaging = { ZIP: 'zip', IMAGE: 'image' } as const;
export type LambdaPackaging = (typeof LambdaPackaging)[keyof typeof LambdaPackaging];

/** How callers of the upload API authenticate (an authorizer on every route). */
export const ApiAuthorization = { IAM: 'iam', JWT: 'jwt' } as const;
export type ApiAuthorization = (typeof ApiAuthorization)[keyof typeof ApiAuthorization];
export const API_AUTHORIZATIONS: readonly ApiAuthorization[] = Object.values(ApiAuthorization);

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** EventBridge `source` and `detail-type`s the analysis code publishes (src/results/completion-event.ts). */
export const ANALYSIS_EVENT_SOURCE = EVENT_SOURCE;
export const ANALYSIS_EVENT_DETAIL_TYPES = [DetailType.COMPLETED, DetailType.FAILED] as const;

/** Where the model layer puts the model inside Lambda (`layers/model/build/models/` → `/opt/models/`). */
export const LAMBDA_MODEL_PATH = '/opt/models/lesion-mtl.onnx';
/** Where functions/analyze/Dockerfile copies the model (`${LAMBDA_TASK_ROOT}/models`). */
export const LAMBDA_IMAGE_MODEL_PATH = '/var/task/models/lesion-mtl.onnx';
/** Where functions/gpu-worker/Dockerfile copies the model. */
export const GPU_MODEL_PATH = '/app/models/lesion-mtl.onnx';
/**
 * Interface endpoints of the GPU VPC with no NAT (isolated subnets): everything the instances and
 * the worker call. Each costs by the hour in every AZ, idle or not (cdk/capacity.ts).
 */
export const GPU_VPC_INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  SqsEndpoint: ec2.InterfaceVpcEndpointAwsService.SQS,
  EcrApiEndpoint: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDockerEndpoint: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  LogsEndpoint: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  EventsEndpoint: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  EcsEndpoint: ec2.InterfaceVpcEndpointAwsService.ECS,
  EcsAgentEndpoint: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
  EcsTelemetryEndpoint: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
};
/** The worker container's health check (the same command as the Dockerfile's HEALTHCHECK). */
export const GPU_WORKER_HEALTH_CHECK = ['CMD', 'node', 'healthcheck.mjs'] as const;

/** Packages the handler bundle leaves out because the runtime layer provides them. */
export const LAYER_PROVIDED_MODULES = NATIVE_MODULES;

/** Routes of the upload API (src/api/handler.ts); both go to the one API function. */
export const API_ROUTES = [
  { method: 'POST', path: '/analyses' },
  { method: 'GET', path: '/analyses/{id}' },
  { method: 'GET', path: '/analyses/{id}/report' },
] as const;

/**
 * Docker build context = repository root, filtered to an allow-list (Docker ignore syntax:
 * exclude everything, re-include what the Dockerfiles COPY). Keeps node_modules, cdk.out,
 * runs/, training data, caches and layer builds out of the staged asset.
 */
export const DOCKER_CONTEXT_EXCLUDES: readonly string[] = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!.npmrc',
  '!tsconfig.json',
  '!src',
  '!functions',
  '!models',
  '!layers',
  'layers/*',
  '!layers/build.ts',
  '!scripts',
  'scripts/*',
  '!scripts/bundle.ts',
  '**/node_modules',
  '**/*.test.ts',
  '**/.DS_Store',
];

/** Construct id of CDK's AwsCustomResource singleton Lambda (stable across CDK versions). */
export const AWS_CUSTOM_RESOURCE_SINGLETON_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

// AWS limits the props are validated against.
/** Presigned URLs (SigV4) are valid for at most 7 days (src/storage/s3-limits.ts). */
export { MAX_PRESIGN_SECONDS };
/** Messages per Lambda SQS batch without a batching window (src/service/sqs-limits.ts). */
export const SQS_BATCH_LIMIT = SQS_MAX_MESSAGES_PER_CALL;
export const LAMBDA_MAX_TIMEOUT_S = 900;
export const SQS_MAX_VISIBILITY_S = 43_200;
