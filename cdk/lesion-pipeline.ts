import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as applicationautoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as lambdaNodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { prefixesOverlap } from '../src/storage/keys.js';
import {
  backlogPerTask,
  backlogSteps,
  DEFAULT_BACKLOG_DRAIN_SECONDS,
  GPU_TASK_IMAGES_PER_SECOND_ESTIMATE,
} from './capacity.js';

/** Repository root (this file sits in cdk/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Which compute consumes the upload queue. */
export const ComputeOption = { CPU: 'cpu', GPU: 'gpu', BOTH: 'both' } as const;
export type ComputeOption = (typeof ComputeOption)[keyof typeof ComputeOption];
export const COMPUTE_OPTIONS: readonly ComputeOption[] = Object.values(ComputeOption);

/** How the Lambda function ships: a zip + two layers, or the container image of functions/analyze/Dockerfile. */
export const LambdaPackaging = { ZIP: 'zip', IMAGE: 'image' } as const;
export type LambdaPackaging = (typeof LambdaPackaging)[keyof typeof LambdaPackaging];

/** EventBridge `source` and `detail-type`s the analysis code publishes. */
export const ANALYSIS_EVENT_SOURCE = 'lesion-mtl';
export const ANALYSIS_EVENT_DETAIL_TYPES = ['LesionAnalysisCompleted', 'LesionAnalysisFailed'] as const;

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
export const LAYER_PROVIDED_MODULES = ['onnxruntime-node', 'sharp'] as const;

/** How callers of the upload API authenticate (an authorizer on every route). */
export const ApiAuthorization = { IAM: 'iam', JWT: 'jwt' } as const;
export type ApiAuthorization = (typeof ApiAuthorization)[keyof typeof ApiAuthorization];
export const API_AUTHORIZATIONS: readonly ApiAuthorization[] = Object.values(ApiAuthorization);

/** Routes of the upload API (src/api/handler.ts); both go to the one API function. */
export const API_ROUTES = [
  { method: 'POST', path: '/analyses' },
  { method: 'GET', path: '/analyses/{id}' },
] as const;

/** Presigned URLs (SigV4) are valid for at most 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** ESM bundle settings shared by the analyze and API functions (local esbuild, no Docker). */
function esmBundling(externalModules: readonly string[]): lambdaNodejs.BundlingOptions {
  return {
    format: lambdaNodejs.OutputFormat.ESM,
    target: 'node22',
    platform: 'node',
    mainFields: ['module', 'main'],
    // ESM bundles of CommonJS dependencies need a real `require`.
    banner:
      "import { createRequire as __lesionCreateRequire } from 'node:module'; const require = __lesionCreateRequire(import.meta.url);",
    // Anything not listed is bundled, the AWS SDK included (its version is pinned by the lock file).
    externalModules: [...externalModules],
    minify: true,
    keepNames: true, // error classes log their real names
    sourceMap: true,
    forceDockerBundling: false,
  };
}

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
  '!tsconfig.build.json',
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

/** Every default, in one place (the README's "Default settings" table mirrors it). */
export const LESION_PIPELINE_DEFAULTS = {
  compute: ComputeOption.GPU,
  uploadsPrefix: 'uploads/',
  resultsPrefix: 'results/',
  resultsExpiration: Duration.days(365),
  noncurrentVersionExpiration: Duration.days(30),
  accessLogsExpiration: Duration.days(365),
  removalPolicy: RemovalPolicy.RETAIN,
  logsRemovalPolicy: RemovalPolicy.DESTROY,
  maxReceiveCount: 3,
  visibilityTimeoutFactor: 6,
  queueAgeAlarmThreshold: Duration.minutes(15),
  lambdaPackaging: LambdaPackaging.ZIP,
  memorySize: 3008,
  functionTimeout: Duration.seconds(60),
  batchSize: 4,
  maxConcurrency: 10,
  tracing: false,
  logRetention: logs.RetentionDays.ONE_MONTH,
  logLevel: 'INFO',
  maxPixels: 60_000_000,
  maxBytes: 40 * 1024 * 1024,
  overlayMaxSide: 1024,
  eventBusName: 'lesion-analysis',
  serviceName: 'lesion-mtl',
  metricsNamespace: 'LesionMtl',
  gpuInstanceType: 'g5.xlarge',
  gpuMaxInstances: 2,
  gpuImagesPerSecondPerTask: GPU_TASK_IMAGES_PER_SECOND_ESTIMATE,
  gpuBacklogDrainTime: Duration.seconds(DEFAULT_BACKLOG_DRAIN_SECONDS),
  gpuMaxBatch: 16,
  gpuTaskMemoryMiB: 12_288,
  gpuRootVolumeGiB: 100,
  natGateways: 0,
  azCount: 2,
  api: {
    authorization: ApiAuthorization.IAM,
    throttle: { rateLimit: 50, burstLimit: 100 },
    uploadUrlTtl: Duration.seconds(900),
    downloadUrlTtl: Duration.seconds(300),
    memorySize: 256,
    timeout: Duration.seconds(10),
  },
} as const;

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Stage throttling of the upload API (requests per second; burst = bucket size). */
export interface ApiThrottle {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Maximum concurrent burst of requests. */
  readonly burstLimit: number;
}

/**
 * The upload API (docs/integration.md §1): an API Gateway HTTP API with `POST /analyses` and
 * `GET /analyses/{id}` on one Lambda function (functions/api/handler.ts).
 */
export interface LesionApiProps {
  /**
   * `iam`: callers sign requests with SigV4 and need `execute-api:Invoke` (grant it with
   * `LesionPipeline.grantApiInvoke`); right for a backend calling server-to-server.
   * `jwt`: callers send `Authorization: Bearer <JWT>` from an OIDC/OAuth 2 issuer (needs
   * `jwtIssuer` and `jwtAudience`).
   * @default 'iam'
   */
  readonly authorization?: ApiAuthorization;
  /** Issuer URL of the JWTs (`https://…`, the `iss` claim), for authorization 'jwt'. */
  readonly jwtIssuer?: string;
  /** Accepted audiences (`aud`, or `client_id` for access tokens), for authorization 'jwt'. */
  readonly jwtAudience?: readonly string[];
  /**
   * Browser origins (`https://app.example.org`) of a web app: the bucket gets a CORS rule for the
   * presigned PUT (method PUT, header content-type) and the API answers CORS preflights.
   * @default none (no CORS: server-to-server callers need none)
   */
  readonly corsOrigins?: readonly string[];
  /** Stage throttling. @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: ApiThrottle;
  /** Lifetime of the presigned PUT (`LESION_API_UPLOAD_URL_TTL_SECONDS`). @default Duration.seconds(900) */
  readonly uploadUrlTtl?: Duration;
  /** Lifetime of the presigned result GETs (`LESION_API_DOWNLOAD_URL_TTL_SECONDS`). @default Duration.seconds(300) */
  readonly downloadUrlTtl?: Duration;
}

export interface LesionPipelineProps {
  /**
   * Which compute consumes the queue: `cpu` = Lambda, `gpu` = ECS on GPU EC2 instances,
   * `both` = both (they share the queue; useful to compare, not for production).
   * @default 'cpu'
   */
  readonly compute?: ComputeOption;

  // ---------------------------------------------------------------- storage
  /** Key prefix of uploads; the S3 notification fires only below it (recursion guard). @default 'uploads/' */
  readonly uploadsPrefix?: string;
  /** Key prefix results are written to; must not overlap uploadsPrefix. @default 'results/' */
  readonly resultsPrefix?: string;
  /** Lifecycle expiration of objects under resultsPrefix. @default Duration.days(365) */
  readonly resultsExpiration?: Duration;
  /** Lifecycle expiration of noncurrent object versions (the bucket is versioned). @default Duration.days(30) */
  readonly noncurrentVersionExpiration?: Duration;
  /** Lifecycle expiration of server access logs. @default Duration.days(365) */
  readonly accessLogsExpiration?: Duration;
  /** Removal policy of the two buckets (uploads/results and access logs). @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Removal policy of the log groups. DESTROY by default: their content already expires with
   * logRetention, and a retained `/aws/events/<bus>` group would block the next deploy's create.
   * @default RemovalPolicy.DESTROY
   */
  readonly logsRemovalPolicy?: RemovalPolicy;

  // ---------------------------------------------------------------- queue + alarms
  /** Receives before a message moves to the dead-letter queue. @default 3 */
  readonly maxReceiveCount?: number;
  /**
   * Queue visibility timeout; must exceed the function timeout (AWS recommends 6x).
   * @default 6 x functionTimeout
   */
  readonly visibilityTimeout?: Duration;
  /** ApproximateAgeOfOldestMessage above which the queue-age alarm fires. @default Duration.minutes(15) */
  readonly queueAgeAlarmThreshold?: Duration;
  /** SNS topic the alarms notify. @default a new topic (`alarmTopic` field), so no alarm is silent */
  readonly alarmTopic?: sns.ITopic;
  /** E-mail address subscribed to the alarm topic this construct creates (ignored with `alarmTopic`). @default no subscription */
  readonly alarmEmail?: string;

  // ---------------------------------------------------------------- Lambda (compute cpu | both)
  /** `zip` = bundled handler + runtime layer + model layer; `image` = functions/analyze/Dockerfile. @default 'zip' */
  readonly lambdaPackaging?: LambdaPackaging;
  /** Function memory in MB (vCPUs scale with it: 1769 MB = 1 vCPU). @default 3008 */
  readonly memorySize?: number;
  /** Function timeout. @default Duration.seconds(60) */
  readonly functionTimeout?: Duration;
  /** Reserved concurrency of the function. @default none (unreserved; maxConcurrency caps the SQS poller) */
  readonly reservedConcurrency?: number;
  /** Maximum concurrent invocations the SQS event source drives (2-1000). @default 10 */
  readonly maxConcurrency?: number;
  /** SQS messages per invocation (1-10). @default 4 */
  readonly batchSize?: number;
  /** X-Ray active tracing on the function. @default false */
  readonly tracing?: boolean;
  /** Retention of every log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** LOG_LEVEL for Powertools. @default 'INFO' */
  readonly logLevel?: LogLevel;
  /** LESION_INTRA_OP_THREADS for Lambda. @default vCPUs of memorySize (ceil(memorySize / 1769)) */
  readonly intraOpThreads?: number;
  /** LESION_MAX_PIXELS. @default 60_000_000 */
  readonly maxPixels?: number;
  /** LESION_MAX_BYTES. @default 41_943_040 (40 MiB) */
  readonly maxBytes?: number;
  /** LESION_OVERLAY_MAX_SIDE. @default 1024 */
  readonly overlayMaxSide?: number;
  /** TypeScript entry bundled with esbuild (zip packaging). @default `<repo>/functions/analyze/handler.ts` */
  readonly handlerEntry?: string;
  /** Pre-built function code (handler `index.handler`); skips esbuild bundling, e.g. in tests. @default bundle handlerEntry */
  readonly functionCode?: lambda.Code;
  /** Runtime layer content. @default Code.fromAsset(`<layersDir>/runtime/build`) */
  readonly runtimeLayerCode?: lambda.Code;
  /** Model layer content. @default Code.fromAsset(`<layersDir>/model/build`) */
  readonly modelLayerCode?: lambda.Code;
  /** Folder holding runtime/build and model/build (made by `npm run build:layers`). @default `<repo>/layers` */
  readonly layersDir?: string;

  // ---------------------------------------------------------------- upload API
  /**
   * The upload API (HTTP API + Lambda); `false` leaves it out.
   * @default { authorization: 'iam' } (on, IAM authorization)
   */
  readonly api?: LesionApiProps | false;
  /** TypeScript entry of the API function, bundled with esbuild. @default `<repo>/functions/api/handler.ts` */
  readonly apiHandlerEntry?: string;
  /** Pre-built API function code (handler `index.handler`); skips esbuild bundling, e.g. in tests. @default bundle apiHandlerEntry */
  readonly apiFunctionCode?: lambda.Code;

  // ---------------------------------------------------------------- events + telemetry
  /** Name of the custom EventBridge bus that receives completion events. @default 'lesion-analysis' */
  readonly eventBusName?: string;
  /** POWERTOOLS_SERVICE_NAME. @default 'lesion-mtl' */
  readonly serviceName?: string;
  /** POWERTOOLS_METRICS_NAMESPACE. @default 'LesionMtl' */
  readonly metricsNamespace?: string;

  // ---------------------------------------------------------------- GPU (compute gpu | both)
  /** GPU instance type (one task per instance: gpuCount 1). @default g5.xlarge */
  readonly gpuInstanceType?: ec2.InstanceType;
  /** Maximum GPU instances = maximum worker tasks; both scale from 0. @default 2 */
  readonly gpuMaxInstances?: number;
  /**
   * Uploads per second one worker task sustains end to end; with `gpuBacklogDrainTime` it sets
   * the backlog each task is given. Measure it on your instance type (the worker logs and
   * publishes `WorkerImagesPerSecond`). @default GPU_TASK_IMAGES_PER_SECOND_ESTIMATE (150, an estimate)
   */
  readonly gpuImagesPerSecondPerTask?: number;
  /** A backlog is worked off within this time: each task gets throughput x this many messages. @default Duration.minutes(5) */
  readonly gpuBacklogDrainTime?: Duration;
  /** Backlog (visible + in flight) per worker task; overrides the derived value. @default gpuImagesPerSecondPerTask x gpuBacklogDrainTime */
  readonly gpuBacklogPerTask?: number;
  /** LESION_MAX_BATCH of the GPU worker. @default 16 */
  readonly gpuMaxBatch?: number;
  /** Memory reservation of the worker container in MiB. @default 12288 */
  readonly gpuTaskMemoryMiB?: number;
  /** Root EBS volume of GPU instances in GiB (the CUDA image is several GB). @default 100 */
  readonly gpuRootVolumeGiB?: number;
  /** Worker image. @default ContainerImage.fromAsset(repo root, { file: 'functions/gpu-worker/Dockerfile' }) */
  readonly gpuImage?: ecs.ContainerImage;
  /**
   * NAT gateways of the GPU VPC. 0 = isolated subnets with VPC endpoints for S3, SQS, ECR, Logs,
   * EventBridge and ECS (no internet egress at all); >= 1 = private subnets behind NAT, no endpoints.
   * @default 0
   */
  readonly natGateways?: number;
  /** Availability zones of the GPU VPC (explicit names avoid any lookup). @default the first 2 AZs of the region (Fn::GetAZs) */
  readonly availabilityZones?: readonly string[];
}

interface ApiResources {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly routes: apigwv2.HttpRoute[];
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly accessLogGroup: logs.LogGroup;
  readonly authorization: ApiAuthorization;
}

interface GpuWorkerResources {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly capacityProvider: ecs.AsgCapacityProvider;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly taskRole: iam.Role;
  readonly service: ecs.Ec2Service;
  readonly logGroup: logs.LogGroup;
  readonly taskCount: ecs.ScalableTaskCount;
}

/** Construct id of CDK's AwsCustomResource singleton Lambda (stable across CDK versions). */
const AWS_CUSTOM_RESOURCE_SINGLETON_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
const SQS_BATCH_LIMIT = 10;
const LAMBDA_MAX_TIMEOUT_S = 900;
const SQS_MAX_VISIBILITY_S = 43_200;
const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

function isInt(n: number): boolean {
  return Number.isInteger(n);
}

function checkPrefix(name: string, value: string, problems: string[]): void {
  if (
    value === '' ||
    !value.endsWith('/') ||
    value.startsWith('/') ||
    value.includes('..') ||
    value.includes('*')
  ) {
    problems.push(
      `${name} '${value}' must be a non-empty relative key prefix ending in '/' (e.g. 'uploads/')`,
    );
  }
}

/**
 * Check props up front and return every problem (empty = valid). The constructor throws one
 * error listing them all.
 *
 * @example
 * validateLesionPipelineProps({ batchSize: 20 }); // ['batchSize must be an integer from 1 to 10, got 20']
 */
export function validateLesionPipelineProps(props: LesionPipelineProps): string[] {
  const d = LESION_PIPELINE_DEFAULTS;
  const problems: string[] = [];
  const compute = props.compute ?? d.compute;
  if (!COMPUTE_OPTIONS.includes(compute)) {
    problems.push(`compute must be one of ${COMPUTE_OPTIONS.join(', ')}, got '${String(compute)}'`);
  }
  const packaging = props.lambdaPackaging ?? d.lambdaPackaging;
  if (!Object.values(LambdaPackaging).includes(packaging)) {
    problems.push(`lambdaPackaging must be 'zip' or 'image', got '${String(packaging)}'`);
  }
  if (
    packaging === LambdaPackaging.IMAGE &&
    (props.functionCode || props.runtimeLayerCode || props.modelLayerCode)
  ) {
    problems.push("functionCode/runtimeLayerCode/modelLayerCode apply to lambdaPackaging 'zip' only");
  }

  const uploads = props.uploadsPrefix ?? d.uploadsPrefix;
  const results = props.resultsPrefix ?? d.resultsPrefix;
  checkPrefix('uploadsPrefix', uploads, problems);
  checkPrefix('resultsPrefix', results, problems);
  if (prefixesOverlap(uploads, results)) {
    problems.push(
      `resultsPrefix '${results}' and uploadsPrefix '${uploads}' must not overlap: results written under the ` +
        'notification filter would trigger the pipeline again (recursion)',
    );
  }

  const batchSize = props.batchSize ?? d.batchSize;
  if (!isInt(batchSize) || batchSize < 1 || batchSize > SQS_BATCH_LIMIT) {
    problems.push(`batchSize must be an integer from 1 to ${SQS_BATCH_LIMIT}, got ${batchSize}`);
  }
  const maxReceiveCount = props.maxReceiveCount ?? d.maxReceiveCount;
  if (!isInt(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    problems.push(`maxReceiveCount must be an integer from 1 to 1000, got ${maxReceiveCount}`);
  }
  const memorySize = props.memorySize ?? d.memorySize;
  if (!isInt(memorySize) || memorySize < 128 || memorySize > 10_240) {
    problems.push(`memorySize must be an integer from 128 to 10240 MB, got ${memorySize}`);
  }
  const timeout = props.functionTimeout ?? d.functionTimeout;
  const timeoutS = timeout.toSeconds();
  if (timeoutS < 1 || timeoutS > LAMBDA_MAX_TIMEOUT_S) {
    problems.push(`functionTimeout must be from 1 to ${LAMBDA_MAX_TIMEOUT_S} seconds, got ${timeoutS}`);
  }
  if (props.visibilityTimeout !== undefined) {
    const vis = props.visibilityTimeout.toSeconds();
    if (vis <= timeoutS) {
      problems.push(
        `visibilityTimeout (${vis} s) must be greater than functionTimeout (${timeoutS} s); AWS recommends 6x (${
          6 * timeoutS
        } s)`,
      );
    }
    if (vis > SQS_MAX_VISIBILITY_S) problems.push(`visibilityTimeout must be at most 12 hours, got ${vis} s`);
  } else if (d.visibilityTimeoutFactor * timeoutS > SQS_MAX_VISIBILITY_S) {
    problems.push(
      '6 x functionTimeout exceeds the 12 h SQS visibility limit; set visibilityTimeout explicitly',
    );
  }
  if (props.reservedConcurrency !== undefined) {
    if (!isInt(props.reservedConcurrency) || props.reservedConcurrency < 1) {
      problems.push(`reservedConcurrency must be an integer >= 1, got ${props.reservedConcurrency}`);
    }
  }
  const maxConcurrency = props.maxConcurrency ?? d.maxConcurrency;
  if (!isInt(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
    problems.push(`maxConcurrency must be an integer from 2 to 1000, got ${maxConcurrency}`);
  }
  if (props.reservedConcurrency !== undefined && maxConcurrency > props.reservedConcurrency) {
    problems.push(
      `maxConcurrency (${maxConcurrency}) must not exceed reservedConcurrency (${props.reservedConcurrency}): ` +
        'the SQS poller would be throttled and messages would burn receives toward the DLQ',
    );
  }
  if (props.logLevel !== undefined && !LOG_LEVELS.includes(props.logLevel)) {
    problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got '${String(props.logLevel)}'`);
  }
  const positives: Array<[string, number | undefined]> = [
    ['maxPixels', props.maxPixels],
    ['maxBytes', props.maxBytes],
    ['overlayMaxSide', props.overlayMaxSide],
    ['gpuMaxBatch', props.gpuMaxBatch],
    ['gpuBacklogPerTask', props.gpuBacklogPerTask],
    ['gpuTaskMemoryMiB', props.gpuTaskMemoryMiB],
    ['gpuRootVolumeGiB', props.gpuRootVolumeGiB],
  ];
  for (const [name, value] of positives) {
    if (value !== undefined && (!isInt(value) || value < 1))
      problems.push(`${name} must be an integer >= 1, got ${value}`);
  }
  if (props.intraOpThreads !== undefined && (!isInt(props.intraOpThreads) || props.intraOpThreads < 0)) {
    problems.push(
      `intraOpThreads must be an integer >= 0 (0 = onnxruntime decides), got ${props.intraOpThreads}`,
    );
  }
  if (
    props.gpuImagesPerSecondPerTask !== undefined &&
    !(Number.isFinite(props.gpuImagesPerSecondPerTask) && props.gpuImagesPerSecondPerTask > 0)
  ) {
    problems.push(`gpuImagesPerSecondPerTask must be a number > 0, got ${props.gpuImagesPerSecondPerTask}`);
  }
  const drain = props.gpuBacklogDrainTime;
  if (drain !== undefined && !Token.isUnresolved(drain.toSeconds()) && drain.toSeconds() < 60) {
    problems.push(`gpuBacklogDrainTime must be at least 1 minute, got ${drain.toHumanString()}`);
  }
  const gpuMax = props.gpuMaxInstances ?? d.gpuMaxInstances;
  if (!isInt(gpuMax) || gpuMax < 1 || gpuMax > 20) {
    problems.push(`gpuMaxInstances must be an integer from 1 to 20, got ${gpuMax}`);
  }
  const azCount = props.availabilityZones?.length ?? d.azCount;
  if (props.availabilityZones !== undefined && azCount < 1)
    problems.push('availabilityZones must not be empty');
  const nat = props.natGateways ?? d.natGateways;
  if (!isInt(nat) || nat < 0 || nat > azCount) {
    problems.push(
      `natGateways must be an integer from 0 to the number of availability zones (${azCount}), got ${nat}`,
    );
  }
  const busName = props.eventBusName ?? d.eventBusName;
  if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(busName) || busName === 'default') {
    problems.push(`eventBusName '${busName}' must be 1-256 of [A-Za-z0-9._-/] and not 'default'`);
  }
  const durations: Array<[string, Duration | undefined, number]> = [
    ['resultsExpiration', props.resultsExpiration, 1],
    ['noncurrentVersionExpiration', props.noncurrentVersionExpiration, 1],
    ['accessLogsExpiration', props.accessLogsExpiration, 1],
  ];
  for (const [name, value, minDays] of durations) {
    if (value !== undefined && value.toDays({ integral: false }) < minDays) {
      problems.push(`${name} must be at least ${minDays} day(s)`);
    }
  }
  if (props.api !== undefined && props.api !== false) checkApiProps(props.api, problems);
  return problems;
}

/** A browser origin: scheme, host and optional port, nothing else. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

function checkApiProps(api: LesionApiProps, problems: string[]): void {
  const auth = api.authorization ?? LESION_PIPELINE_DEFAULTS.api.authorization;
  if (!API_AUTHORIZATIONS.includes(auth)) {
    problems.push(`api.authorization must be one of ${API_AUTHORIZATIONS.join(', ')}, got '${String(auth)}'`);
  }
  if (auth === ApiAuthorization.JWT) {
    if (!api.jwtIssuer || !/^https:\/\/[^\s]+$/.test(api.jwtIssuer)) {
      problems.push(
        `api.authorization 'jwt' needs api.jwtIssuer, the https:// URL of the token issuer (iss), got ${
          api.jwtIssuer === undefined ? 'none' : `'${api.jwtIssuer}'`
        }`,
      );
    }
    if (!api.jwtAudience || api.jwtAudience.length === 0 || api.jwtAudience.some((a) => !a || !a.trim())) {
      problems.push(
        "api.authorization 'jwt' needs api.jwtAudience, one or more non-empty audiences (aud or client_id)",
      );
    }
  } else if (api.jwtIssuer !== undefined || api.jwtAudience !== undefined) {
    problems.push("api.jwtIssuer / api.jwtAudience apply to api.authorization 'jwt' only");
  }
  if (api.corsOrigins !== undefined) {
    const bad = api.corsOrigins.filter((o) => !ORIGIN.test(o));
    if (api.corsOrigins.length === 0 || bad.length > 0) {
      problems.push(
        'api.corsOrigins must be a non-empty list of origins like https://app.example.org ' +
          `(scheme://host[:port], no path, no '*')${bad.length > 0 ? `, got ${bad.map((o) => `'${o}'`).join(', ')}` : ''}`,
      );
    }
  }
  if (api.throttle !== undefined) {
    const { rateLimit, burstLimit } = api.throttle;
    if (!Number.isFinite(rateLimit) || rateLimit <= 0) {
      problems.push(`api.throttle.rateLimit must be a number > 0 (requests per second), got ${rateLimit}`);
    }
    if (!isInt(burstLimit) || burstLimit < 1) {
      problems.push(`api.throttle.burstLimit must be an integer >= 1, got ${burstLimit}`);
    }
  }
  const ttls: Array<[string, Duration | undefined]> = [
    ['api.uploadUrlTtl', api.uploadUrlTtl],
    ['api.downloadUrlTtl', api.downloadUrlTtl],
  ];
  for (const [name, value] of ttls) {
    if (value === undefined) continue;
    const seconds = value.toSeconds({ integral: false });
    if (!isInt(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
      problems.push(
        `${name} must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS} (7 days), got ${seconds}`,
      );
    }
  }
}

/** The layer folders `layers/build.ts` produces. */
export function defaultLayerDirs(layersDir: string = path.join(REPO_ROOT, 'layers')): {
  runtime: string;
  model: string;
} {
  return { runtime: path.join(layersDir, 'runtime', 'build'), model: path.join(layersDir, 'model', 'build') };
}

/**
 * S3 upload → SQS (+DLQ) → Lambda (CPU) and/or ECS GPU worker → results in the same bucket
 * + EventBridge completion events, and an upload API (HTTP API, IAM or JWT) that presigns uploads
 * and reports results. Secure defaults (SSE, TLS-only, versioning, access logs, least-privilege
 * roles), validated props, and every created resource exposed.
 *
 * @example
 * const pipeline = new LesionPipeline(stack, 'Pipeline', { compute: 'cpu', batchSize: 4 });
 * new CfnOutput(stack, 'Bucket', { value: pipeline.bucket.bucketName });
 */
export class LesionPipeline extends Construct {
  public readonly compute: ComputeOption;
  public readonly uploadsPrefix: string;
  public readonly resultsPrefix: string;
  /** Uploads (uploadsPrefix) and results (resultsPrefix) in one bucket. */
  public readonly bucket: s3.Bucket;
  /** Server access logs of `bucket`. */
  public readonly accessLogsBucket: s3.Bucket;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly eventBus: events.EventBus;
  /** Example rule: completion/failure events → `eventsLogGroup`. */
  public readonly eventsRule: events.Rule;
  public readonly eventsLogGroup: logs.LogGroup;
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  public readonly queueAgeAlarm: cloudwatch.Alarm;
  /** The topic both alarms notify: the `alarmTopic` prop, or the one created here. */
  public readonly alarmTopic: sns.ITopic;
  /** Present when compute is cpu or both. */
  public readonly analyzeFunction?: lambda.Function;
  public readonly functionRole?: iam.Role;
  public readonly functionLogGroup?: logs.LogGroup;
  /** Present for cpu/both with zip packaging. */
  public readonly runtimeLayer?: lambda.LayerVersion;
  public readonly modelLayer?: lambda.LayerVersion;
  /** Present when compute is gpu or both. */
  public readonly vpc?: ec2.Vpc;
  public readonly cluster?: ecs.Cluster;
  public readonly autoScalingGroup?: autoscaling.AutoScalingGroup;
  public readonly capacityProvider?: ecs.AsgCapacityProvider;
  public readonly gpuTaskDefinition?: ecs.Ec2TaskDefinition;
  public readonly gpuTaskRole?: iam.Role;
  public readonly gpuService?: ecs.Ec2Service;
  public readonly gpuLogGroup?: logs.LogGroup;
  /** Task count 0..gpuMaxInstances, step-scaled on the queue backlog. */
  public readonly gpuTaskCount?: ecs.ScalableTaskCount;
  /** Present unless `api: false`: the upload API. */
  public readonly httpApi?: apigwv2.HttpApi;
  /** The `$default` stage (throttling, access logs). */
  public readonly apiStage?: apigwv2.HttpStage;
  /** `POST /analyses` and `GET /analyses/{id}`, in API_ROUTES order. */
  public readonly apiRoutes?: readonly apigwv2.HttpRoute[];
  public readonly apiFunction?: lambda.Function;
  public readonly apiFunctionRole?: iam.Role;
  public readonly apiFunctionLogGroup?: logs.LogGroup;
  public readonly apiAccessLogGroup?: logs.LogGroup;
  /** Base URL of the API (`https://<id>.execute-api.<region>.amazonaws.com`, no trailing slash). */
  public readonly apiUrl?: string;
  /** How the API authenticates callers (undefined without an API). */
  public readonly apiAuthorization?: ApiAuthorization;

  constructor(scope: Construct, id: string, props: LesionPipelineProps = {}) {
    super(scope, id);
    const problems = validateLesionPipelineProps(props);
    const compute = props.compute ?? LESION_PIPELINE_DEFAULTS.compute;
    if (
      compute !== ComputeOption.CPU &&
      !props.availabilityZones &&
      !Token.isUnresolved(Stack.of(this).region)
    ) {
      problems.push(
        `stack ${Stack.of(this).stackName} has an explicit region: set availabilityZones (explicit AZ names, ` +
          'and use LesionStack, which answers Stack.availabilityZones from them) or keep the stack ' +
          'environment-agnostic; otherwise the GPU VPC needs an AZ context lookup (credentials)',
      );
    }
    if (problems.length > 0) {
      throw new Error(`Invalid LesionPipeline props (${problems.length}):\n  - ${problems.join('\n  - ')}`);
    }
    const d = LESION_PIPELINE_DEFAULTS;
    this.compute = props.compute ?? d.compute;
    this.uploadsPrefix = props.uploadsPrefix ?? d.uploadsPrefix;
    this.resultsPrefix = props.resultsPrefix ?? d.resultsPrefix;
    const removalPolicy = props.removalPolicy ?? d.removalPolicy;
    const logsRemovalPolicy = props.logsRemovalPolicy ?? d.logsRemovalPolicy;
    const logRetention = props.logRetention ?? d.logRetention;
    const functionTimeout = props.functionTimeout ?? d.functionTimeout;

    // ------------------------------------------------------------ storage
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED, // log delivery does not support SSE-KMS
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: props.accessLogsExpiration ?? d.accessLogsExpiration },
      ],
      removalPolicy,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the server-access-log destination; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lesion-bucket/',
      lifecycleRules: [
        {
          id: 'expire-results',
          prefix: this.resultsPrefix,
          expiration: props.resultsExpiration ?? d.resultsExpiration,
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? d.noncurrentVersionExpiration,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy,
    });

    // ------------------------------------------------------------ queue, DLQ, notification, alarms
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED, // SSE-SQS: S3 can send without a KMS key policy
      enforceSSL: true,
      visibilityTimeout:
        props.visibilityTimeout ?? Duration.seconds(d.visibilityTimeoutFactor * functionTimeout.toSeconds()),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? d.maxReceiveCount,
      },
    });
    // Recursion guard: only keys under uploadsPrefix notify; results go under a disjoint prefix.
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: this.uploadsPrefix,
    });

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterQueueAlarm', {
      alarmDescription: 'Uploads failed maxReceiveCount times and landed in the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const ageThreshold = props.queueAgeAlarmThreshold ?? d.queueAgeAlarmThreshold;
    this.queueAgeAlarm = new cloudwatch.Alarm(this, 'QueueAgeAlarm', {
      alarmDescription: `The oldest upload has waited more than ${ageThreshold.toHumanString()} (consumers stalled or too few).`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: ageThreshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // An alarm nobody hears is no alarm: without a topic of the user's, one is created here.
    this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic(props.alarmEmail);
    for (const alarm of [this.deadLetterAlarm, this.queueAgeAlarm]) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
    }

    // ------------------------------------------------------------ EventBridge
    const eventBusName = props.eventBusName ?? d.eventBusName;
    this.eventBus = new events.EventBus(this, 'EventBus', { eventBusName });
    this.eventsLogGroup = new logs.LogGroup(this, 'AnalysisEventsLogGroup', {
      logGroupName: `/aws/events/${eventBusName}`, // EventBridge log targets must live under /aws/events/
      retention: logRetention,
      removalPolicy: logsRemovalPolicy,
    });
    this.eventsRule = new events.Rule(this, 'AnalysisEventsRule', {
      description: 'Example consumer: every lesion analysis completion/failure event into CloudWatch Logs.',
      eventBus: this.eventBus,
      eventPattern: { source: [ANALYSIS_EVENT_SOURCE], detailType: [...ANALYSIS_EVENT_DETAIL_TYPES] },
      targets: [new eventsTargets.CloudWatchLogGroup(this.eventsLogGroup)],
    });

    this.acknowledgeCdkSingletons();

    const sharedEnv: Record<string, string> = {
      LESION_UPLOADS_PREFIX: this.uploadsPrefix,
      LESION_RESULTS_PREFIX: this.resultsPrefix,
      LESION_RESULTS_BUCKET: this.bucket.bucketName,
      LESION_MAX_PIXELS: String(props.maxPixels ?? d.maxPixels),
      LESION_MAX_BYTES: String(props.maxBytes ?? d.maxBytes),
      LESION_OVERLAY_MAX_SIDE: String(props.overlayMaxSide ?? d.overlayMaxSide),
      LESION_EVENT_BUS_NAME: this.eventBus.eventBusName,
      // the redrive policy's count: on that delivery a transient failure is answered with error.json
      LESION_MAX_RECEIVE_COUNT: String(props.maxReceiveCount ?? d.maxReceiveCount),
      POWERTOOLS_SERVICE_NAME: props.serviceName ?? d.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? d.metricsNamespace,
      LOG_LEVEL: props.logLevel ?? d.logLevel,
      // onnxruntime's telemetry upload (Linux builds since 1.29) stays off: nothing leaves the account
      ORT_DISABLE_TELEMETRY: '1',
    };

    // ------------------------------------------------------------ compute: Lambda
    if (this.compute === ComputeOption.CPU || this.compute === ComputeOption.BOTH) {
      const memorySize = props.memorySize ?? d.memorySize;
      const packaging = props.lambdaPackaging ?? d.lambdaPackaging;
      const role = new iam.Role(this, 'FunctionRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description:
          'lesion-mtl analyze function: read uploads, write results, consume the queue, put events',
      });
      this.grantPipelineAccess(role);
      const logGroup = new logs.LogGroup(this, 'FunctionLogGroup', {
        retention: logRetention,
        removalPolicy: logsRemovalPolicy,
      });
      logGroup.grantWrite(role);

      const common = {
        architecture: lambda.Architecture.X86_64, // the layer's onnxruntime/sharp binaries are linux-x64
        memorySize,
        timeout: functionTimeout,
        role,
        logGroup,
        tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
        description: 'lesion-mtl: segment + classify uploaded dermoscopy images (onnxruntime CPU)',
        ...(props.reservedConcurrency !== undefined
          ? { reservedConcurrentExecutions: props.reservedConcurrency }
          : {}),
      };
      const threads = props.intraOpThreads ?? Math.min(6, Math.max(1, Math.ceil(memorySize / 1769)));
      const env = {
        ...sharedEnv,
        LESION_EXECUTION_PROVIDER: 'cpu',
        LESION_INTRA_OP_THREADS: String(threads),
        NODE_OPTIONS: '--enable-source-maps',
      };

      if (packaging === LambdaPackaging.IMAGE) {
        this.analyzeFunction = new lambda.DockerImageFunction(this, 'AnalyzeFunction', {
          ...common,
          code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
            file: 'functions/analyze/Dockerfile',
            exclude: [...DOCKER_CONTEXT_EXCLUDES],
            platform: Platform.LINUX_AMD64,
          }),
          environment: { ...env, LESION_MODEL_PATH: LAMBDA_IMAGE_MODEL_PATH },
        });
      } else {
        const dirs = defaultLayerDirs(props.layersDir);
        const layerCode = (given: lambda.Code | undefined, dir: string, what: string): lambda.Code => {
          if (given) return given;
          if (!fs.existsSync(dir)) {
            throw new Error(
              `${what} layer folder ${path.relative(REPO_ROOT, dir) || dir} is missing: run \`npm run build:layers\` ` +
                '(cdk/app.ts runs it automatically before synth)',
            );
          }
          return lambda.Code.fromAsset(dir);
        };
        this.runtimeLayer = new lambda.LayerVersion(this, 'RuntimeLayer', {
          code: layerCode(props.runtimeLayerCode, dirs.runtime, 'Runtime'),
          compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
          compatibleArchitectures: [lambda.Architecture.X86_64],
          description: 'onnxruntime-node + sharp, linux-x64 glibc only (layers/build.ts)',
          removalPolicy: RemovalPolicy.DESTROY,
        });
        this.modelLayer = new lambda.LayerVersion(this, 'ModelLayer', {
          code: layerCode(props.modelLayerCode, dirs.model, 'Model'),
          compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
          description: 'lesion-mtl ONNX model + contract at /opt/models',
          removalPolicy: RemovalPolicy.DESTROY,
        });
        const zipProps = {
          ...common,
          runtime: lambda.Runtime.NODEJS_22_X,
          layers: [this.runtimeLayer, this.modelLayer],
          environment: { ...env, LESION_MODEL_PATH: LAMBDA_MODEL_PATH },
        };
        if (props.functionCode) {
          this.analyzeFunction = new lambda.Function(this, 'AnalyzeFunction', {
            ...zipProps,
            code: props.functionCode,
            handler: 'index.handler',
          });
        } else {
          const entry = props.handlerEntry ?? path.join(REPO_ROOT, 'functions', 'analyze', 'handler.ts');
          if (!fs.existsSync(entry)) {
            throw new Error(
              `Lambda handler entry ${entry} not found (expected functions/analyze/handler.ts)`,
            );
          }
          this.analyzeFunction = new lambdaNodejs.NodejsFunction(this, 'AnalyzeFunction', {
            ...zipProps,
            entry,
            handler: 'handler',
            projectRoot: REPO_ROOT,
            depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
            bundling: esmBundling(LAYER_PROVIDED_MODULES), // onnxruntime-node + sharp come from the runtime layer
          });
        }
      }
      this.analyzeFunction.addEventSource(
        new SqsEventSource(this.queue, {
          batchSize: props.batchSize ?? d.batchSize,
          reportBatchItemFailures: true,
          maxConcurrency: props.maxConcurrency ?? d.maxConcurrency,
        }),
      );
      this.functionRole = role;
      this.functionLogGroup = logGroup;
      if (props.tracing) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
        });
      }
      if (packaging === LambdaPackaging.ZIP) {
        Validations.of(this.analyzeFunction).acknowledge({
          id: 'AwsSolutions-L1',
          reason:
            'Pinned to nodejs22.x on purpose: the project standard (middy 6, layer binaries) is Node 22.',
        });
      }
    }

    // ------------------------------------------------------------ compute: ECS on GPU EC2
    if (this.compute === ComputeOption.GPU || this.compute === ComputeOption.BOTH) {
      const gpu = this.createGpuWorker(props, sharedEnv, logsRemovalPolicy, logRetention);
      this.vpc = gpu.vpc;
      this.cluster = gpu.cluster;
      this.autoScalingGroup = gpu.autoScalingGroup;
      this.capacityProvider = gpu.capacityProvider;
      this.gpuTaskDefinition = gpu.taskDefinition;
      this.gpuTaskRole = gpu.taskRole;
      this.gpuService = gpu.service;
      this.gpuLogGroup = gpu.logGroup;
      this.gpuTaskCount = gpu.taskCount;
    }

    // ------------------------------------------------------------ upload API
    if (props.api !== false) {
      const api = this.createApi(props, props.api ?? {}, logsRemovalPolicy, logRetention);
      this.httpApi = api.httpApi;
      this.apiStage = api.stage;
      this.apiRoutes = api.routes;
      this.apiFunction = api.fn;
      this.apiFunctionRole = api.role;
      this.apiFunctionLogGroup = api.logGroup;
      this.apiAccessLogGroup = api.accessLogGroup;
      this.apiUrl = api.httpApi.apiEndpoint;
      this.apiAuthorization = api.authorization;
    }
  }

  /**
   * Least privilege shared by the Lambda role and the ECS task role: GetObject on uploads, PutObject
   * on results, read-back of results (idempotency), a prefix-limited ListBucket, PutEvents on the
   * bus. (Queue consumption is granted by the event source / `grantConsumeMessages`.)
   */
  private grantPipelineAccess(role: iam.IRole): void {
    role.addToPrincipalPolicy(this.prefixStatement('ReadUploads', 's3:GetObject', this.uploadsPrefix));
    role.addToPrincipalPolicy(this.prefixStatement('WriteResults', 's3:PutObject', this.resultsPrefix));
    // src/service/process-uploads.ts and publish.ts HEAD/GET result.json, error.json and the
    // event.json marker under results/<id>/ before analysing a redelivered upload (exactly once).
    role.addToPrincipalPolicy(this.prefixStatement('ReadResults', 's3:GetObject', this.resultsPrefix));
    role.addToPrincipalPolicy(this.listOwnPrefixesStatement());
    this.eventBus.grantPutEventsTo(role);
    Validations.of(role).acknowledge(
      {
        id: this.objectsFinding(this.uploadsPrefix),
        reason: 'Reads any upload key, and only under the uploads prefix.',
      },
      {
        id: this.objectsFinding(this.resultsPrefix),
        reason: 'Writes and reads back result keys (idempotency checks), only under the results prefix.',
      },
    );
  }

  /**
   * s3:ListBucket limited to the two prefixes. Without ListBucket S3 answers a HEAD/GET of a
   * missing key with 403 instead of 404, so "no result yet" would look like a failure; with it the
   * role can still list nothing outside uploads/ and results/.
   */
  /** One S3 object action on every key under one prefix of the bucket (no wildcard beyond it). */
  private prefixStatement(sid: string, action: string, prefix: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: [action],
      resources: [this.bucket.arnForObjects(`${prefix}*`)],
    });
  }

  private listOwnPrefixesStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'ListOwnPrefixes',
      actions: ['s3:ListBucket'],
      resources: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${this.uploadsPrefix}*`, `${this.resultsPrefix}*`] } },
    });
  }

  /** The cdk-nag IAM5 finding id of `<bucket>/<prefix>*`. */
  private objectsFinding(prefix: string): string {
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    return `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`;
  }

  /**
   * Let `grantee` call both routes of the upload API (`execute-api:Invoke`). Only with
   * `api.authorization: 'iam'`.
   *
   * @example
   * pipeline.grantApiInvoke(backendRole);
   */
  public grantApiInvoke(grantee: iam.IGrantable): iam.Grant[] {
    if (!this.apiRoutes || this.apiAuthorization !== ApiAuthorization.IAM) {
      throw new Error("grantApiInvoke needs the upload API with api.authorization 'iam'");
    }
    return this.apiRoutes.map((route) => route.grantInvoke(grantee));
  }

  /**
   * CDK creates stack-level singleton Lambdas for the S3 notification configuration and the
   * events log-group resource policy; acknowledge their nag findings with reasons.
   */
  private createAlarmTopic(email: string | undefined): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'lesion-mtl pipeline alarms',
      enforceSSL: true,
    });
    if (email) topic.addSubscription(new snsSubscriptions.EmailSubscription(email));
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and thresholds, no patient data; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.',
    });
    return topic;
  }

  private acknowledgeCdkSingletons(): void {
    const basicExecution =
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
    const ruleId = Names.nodeUniqueId(this.eventsRule.node);
    for (const child of Stack.of(this).node.children) {
      if (child.node.id.startsWith('BucketNotificationsHandler')) {
        Validations.of(child).acknowledge({
          id: basicExecution,
          reason:
            'CDK-managed singleton that applies the bucket notification configuration at deploy time only.',
        });
      } else if (child.node.id === AWS_CUSTOM_RESOURCE_SINGLETON_ID) {
        Validations.of(child).acknowledge({
          id: basicExecution,
          reason:
            'CDK-managed AwsCustomResource singleton (events log-group resource policy), deploy time only.',
        });
      } else if (child.node.id === `EventsLogGroupPolicy${ruleId}`) {
        Validations.of(child).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'logs:PutResourcePolicy / DeleteResourcePolicy act on the account-level policy and take no ARN.',
        });
      }
    }
  }

  /**
   * The upload API: HTTP API ($default stage, throttled, access-logged) with an IAM or JWT
   * authorizer on both routes → one Lambda (functions/api/handler.ts) that presigns uploads and
   * reads results. Its role can PutObject only under uploads/ (the presigned PUT is signed with
   * it), GetObject only under results/, and list only those two prefixes.
   */
  private createApi(
    props: LesionPipelineProps,
    api: LesionApiProps,
    logsRemovalPolicy: RemovalPolicy,
    logRetention: logs.RetentionDays,
  ): ApiResources {
    const d = LESION_PIPELINE_DEFAULTS;
    const authorization = api.authorization ?? d.api.authorization;
    const role = new iam.Role(this, 'ApiFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'lesion-mtl upload API: presign uploads, read results',
    });
    role.addToPrincipalPolicy(this.prefixStatement('PresignUploads', 's3:PutObject', this.uploadsPrefix));
    role.addToPrincipalPolicy(this.prefixStatement('ReadResults', 's3:GetObject', this.resultsPrefix));
    role.addToPrincipalPolicy(this.listOwnPrefixesStatement());
    const logGroup = new logs.LogGroup(this, 'ApiFunctionLogGroup', {
      retention: logRetention,
      removalPolicy: logsRemovalPolicy,
    });
    logGroup.grantWrite(role);

    const common = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.X86_64,
      memorySize: d.api.memorySize,
      timeout: d.api.timeout,
      role,
      logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      description: 'lesion-mtl upload API: POST /analyses, GET /analyses/{id} (presigned S3 URLs)',
      // The names src/api/config.ts (loadApiConfig) and src/config.ts read; docs/integration.md §1.
      environment: {
        LESION_UPLOAD_BUCKET: this.bucket.bucketName,
        LESION_RESULTS_BUCKET: this.bucket.bucketName,
        LESION_UPLOADS_PREFIX: this.uploadsPrefix,
        LESION_RESULTS_PREFIX: this.resultsPrefix,
        LESION_MAX_BYTES: String(props.maxBytes ?? d.maxBytes),
        LESION_API_UPLOAD_URL_TTL_SECONDS: String((api.uploadUrlTtl ?? d.api.uploadUrlTtl).toSeconds()),
        LESION_API_DOWNLOAD_URL_TTL_SECONDS: String((api.downloadUrlTtl ?? d.api.downloadUrlTtl).toSeconds()),
        LOG_LEVEL: props.logLevel ?? d.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
      },
    };
    let fn: lambda.Function;
    if (props.apiFunctionCode) {
      fn = new lambda.Function(this, 'ApiFunction', {
        ...common,
        code: props.apiFunctionCode,
        handler: 'index.handler',
      });
    } else {
      const entry = props.apiHandlerEntry ?? path.join(REPO_ROOT, 'functions', 'api', 'handler.ts');
      if (!fs.existsSync(entry)) {
        throw new Error(`API handler entry ${entry} not found (expected functions/api/handler.ts)`);
      }
      fn = new lambdaNodejs.NodejsFunction(this, 'ApiFunction', {
        ...common,
        entry,
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: esmBundling([]), // no native modules: everything, the AWS SDK included, is bundled
      });
    }

    const authorizer =
      authorization === ApiAuthorization.JWT
        ? new HttpJwtAuthorizer('JwtAuthorizer', api.jwtIssuer!, {
            authorizerName: 'lesion-jwt',
            jwtAudience: [...api.jwtAudience!],
          })
        : new HttpIamAuthorizer();
    const corsOrigins = api.corsOrigins ? [...api.corsOrigins] : undefined;
    const httpApi = new apigwv2.HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-upload-api`,
      description: 'lesion-mtl upload API: POST /analyses, GET /analyses/{id} (docs/integration.md)',
      createDefaultStage: false, // the stage below carries throttling and access logs
      defaultAuthorizer: authorizer,
      ...(corsOrigins
        ? {
            corsPreflight: {
              allowOrigins: corsOrigins,
              allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
              allowHeaders: [
                'authorization',
                'content-type',
                ...(authorization === ApiAuthorization.IAM
                  ? ['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']
                  : []),
              ],
              exposeHeaders: ['location', 'retry-after'],
              maxAge: Duration.minutes(10),
            },
          }
        : {}),
    });
    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogGroup', {
      retention: logRetention,
      removalPolicy: logsRemovalPolicy,
    });
    const throttle = api.throttle ?? d.api.throttle;
    const stage = new apigwv2.HttpStage(this, 'ApiStage', {
      httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogGroup),
        // One JSON line per request: who, which route, outcome. No bodies, no query strings.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            principal:
              authorization === ApiAuthorization.JWT
                ? '$context.authorizer.claims.sub'
                : '$context.identity.userArn',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationLatencyMs: '$context.integrationLatency',
            error: '$context.error.message',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', fn);
    const routes = API_ROUTES.map(
      (r) =>
        httpApi.addRoutes({
          path: r.path,
          methods: [r.method === 'POST' ? apigwv2.HttpMethod.POST : apigwv2.HttpMethod.GET],
          integration,
        })[0]!,
    );

    if (corsOrigins) {
      // A browser PUTs the image straight to S3 with the presigned URL.
      this.bucket.addCorsRule({
        id: 'presigned-upload-put',
        allowedMethods: [s3.HttpMethods.PUT],
        allowedOrigins: corsOrigins,
        allowedHeaders: ['content-type'],
        maxAge: 3000,
      });
    }

    Validations.of(role).acknowledge(
      {
        id: this.objectsFinding(this.uploadsPrefix),
        reason: 'Presigns PUTs for new upload keys (uploads/<uuid>.<ext>), only under the uploads prefix.',
      },
      {
        id: this.objectsFinding(this.resultsPrefix),
        reason: 'Reads result.json / error.json and presigns result GETs, only under the results prefix.',
      },
      ...(props.tracing
        ? [
            {
              id: 'AwsSolutions-IAM5[Resource::*]',
              reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
            },
          ]
        : []),
    );
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: the project standard (middy 6, Powertools) is Node 22.',
    });
    return { httpApi, stage, routes, fn, role, logGroup, accessLogGroup, authorization };
  }

  private createGpuWorker(
    props: LesionPipelineProps,
    sharedEnv: Record<string, string>,
    logsRemovalPolicy: RemovalPolicy,
    logRetention: logs.RetentionDays,
  ): GpuWorkerResources {
    const d = LESION_PIPELINE_DEFAULTS;
    const natGateways = props.natGateways ?? d.natGateways;
    const maxInstances = props.gpuMaxInstances ?? d.gpuMaxInstances;
    const workloadSubnetType =
      natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;

    const flowLogGroup = new logs.LogGroup(this, 'VpcFlowLogGroup', {
      retention: logRetention,
      removalPolicy: logsRemovalPolicy,
    });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      // No lookups: explicit AZ names, or 2 AZs resolved by CloudFormation (Fn::GetAZs) in an env-agnostic stack.
      ...(props.availabilityZones
        ? { availabilityZones: [...props.availabilityZones] }
        : { maxAzs: d.azCount }),
      natGateways,
      subnetConfiguration: [
        ...(natGateways > 0 ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
        { name: 'gpu', subnetType: workloadSubnetType, cidrMask: 22 },
      ],
      flowLogs: {
        all: {
          trafficType: ec2.FlowLogTrafficType.ALL,
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        },
      },
    });
    if (props.availabilityZones) {
      Validations.of(vpc).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: 'AZ names are hard-coded on purpose: the availabilityZones prop avoids a context lookup.',
      });
    }
    const workloadSubnets: ec2.SubnetSelection = { subnetType: workloadSubnetType };

    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const asg = new autoscaling.AutoScalingGroup(this, 'GpuAutoScalingGroup', {
      vpc,
      vpcSubnets: workloadSubnets,
      instanceType: props.gpuInstanceType ?? new ec2.InstanceType(d.gpuInstanceType),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
      minCapacity: 0,
      maxCapacity: maxInstances,
      requireImdsv2: true,
      associatePublicIpAddress: false,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: autoscaling.BlockDeviceVolume.ebs(props.gpuRootVolumeGiB ?? d.gpuRootVolumeGiB, {
            encrypted: true,
            volumeType: autoscaling.EbsDeviceVolumeType.GP3,
          }),
        },
      ],
    });
    const capacityProvider = new ecs.AsgCapacityProvider(this, 'GpuCapacityProvider', {
      autoScalingGroup: asg,
      enableManagedScaling: true,
      enableManagedTerminationProtection: true,
      targetCapacityPercent: 100,
    });
    cluster.addAsgCapacityProvider(capacityProvider);

    const logGroup = new logs.LogGroup(this, 'GpuWorkerLogGroup', {
      retention: logRetention,
      removalPolicy: logsRemovalPolicy,
    });
    const taskRole = new iam.Role(this, 'GpuTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'lesion-mtl GPU worker: read uploads, write results, consume the queue, put events',
    });
    this.grantPipelineAccess(taskRole);
    this.queue.grantConsumeMessages(taskRole);

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'GpuTaskDefinition', {
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole,
    });
    taskDefinition.addContainer('worker', {
      image:
        props.gpuImage ??
        ecs.ContainerImage.fromAsset(REPO_ROOT, {
          file: 'functions/gpu-worker/Dockerfile',
          exclude: [...DOCKER_CONTEXT_EXCLUDES],
          platform: Platform.LINUX_AMD64,
        }),
      gpuCount: 1,
      memoryReservationMiB: props.gpuTaskMemoryMiB ?? d.gpuTaskMemoryMiB,
      stopTimeout: Duration.seconds(120), // finish the in-flight batch on scale-in (SIGTERM)
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'gpu-worker', logGroup }),
      // the image's HEALTHCHECK (functions/gpu-worker/Dockerfile): model loaded, queue polled recently
      healthCheck: {
        command: [...GPU_WORKER_HEALTH_CHECK],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(120),
      },
      environment: {
        ...sharedEnv,
        AWS_REGION: Stack.of(this).region,
        LESION_QUEUE_URL: this.queue.queueUrl,
        LESION_MAX_BATCH: String(props.gpuMaxBatch ?? d.gpuMaxBatch),
        LESION_EXECUTION_PROVIDER: 'cuda',
        LESION_MODEL_PATH: GPU_MODEL_PATH,
      },
    });
    const securityGroup = new ec2.SecurityGroup(this, 'GpuTaskSecurityGroup', {
      vpc,
      description: 'lesion-mtl GPU worker tasks: no inbound, HTTPS out to AWS endpoints',
      allowAllOutbound: true,
    });
    if (natGateways === 0) {
      // Isolated subnets: everything the instances and the worker call goes through endpoints,
      // reachable on 443 from the task and instance security groups only.
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc,
        description: 'lesion-mtl VPC interface endpoints: HTTPS from GPU tasks and instances',
        allowAllOutbound: false,
      });
      for (const source of [securityGroup, ...asg.connections.securityGroups]) {
        endpointSecurityGroup.addIngressRule(source, ec2.Port.tcp(443), 'HTTPS to AWS service endpoints');
      }
      vpc.addGatewayEndpoint('S3Endpoint', {
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [workloadSubnets],
      });
      for (const [id, service] of Object.entries(GPU_VPC_INTERFACE_ENDPOINTS)) {
        vpc.addInterfaceEndpoint(id, {
          service,
          subnets: workloadSubnets,
          privateDnsEnabled: true,
          open: false,
          securityGroups: [endpointSecurityGroup],
        });
      }
    }
    const service = new ecs.Ec2Service(this, 'GpuService', {
      cluster,
      taskDefinition,
      desiredCount: 0,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      vpcSubnets: workloadSubnets,
      securityGroups: [securityGroup],
      capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
      circuitBreaker: { rollback: true },
    });

    // Scale 0..N on backlog (visible + in flight, so a busy worker is not scaled in mid-batch).
    const backlog = new cloudwatch.MathExpression({
      label: 'Backlog (visible + in flight)',
      expression: 'visible + inflight',
      usingMetrics: {
        visible: this.queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        inflight: this.queue.metricApproximateNumberOfMessagesNotVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
      },
      period: Duration.minutes(1),
    });
    const perTask =
      props.gpuBacklogPerTask ??
      backlogPerTask(
        props.gpuImagesPerSecondPerTask ?? d.gpuImagesPerSecondPerTask,
        (props.gpuBacklogDrainTime ?? d.gpuBacklogDrainTime).toSeconds(),
      );
    const steps: applicationautoscaling.ScalingInterval[] = backlogSteps(maxInstances, perTask);
    const scalable = service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: maxInstances });
    scalable.scaleOnMetric('QueueBacklogScaling', {
      metric: backlog,
      scalingSteps: steps,
      adjustmentType: applicationautoscaling.AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.minutes(2),
      metricAggregationType: applicationautoscaling.MetricAggregationType.MAXIMUM,
    });

    Validations.of(asg.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Action::ecs:Submit*]',
        reason:
          'CDK-generated ECS container-instance policy (ecs:Submit* = agent state reports), scoped to the cluster.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and logs actions of the ECS agent take no resource ARN.',
      },
    );
    if (taskDefinition.executionRole) {
      Validations.of(taskDefinition.executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken does not support resource-level permissions (image pulls are repo-scoped).',
      });
    }
    Validations.of(asg).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Scaling is driven by the ECS capacity provider; activity is visible in ECS events and Container Insights.',
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'Environment variables hold non-secret configuration (prefixes, limits, queue URL, bus name).',
    });
    return {
      vpc,
      cluster,
      autoScalingGroup: asg,
      capacityProvider,
      taskDefinition,
      taskRole,
      service,
      logGroup,
      taskCount: scalable,
    };
  }
}
