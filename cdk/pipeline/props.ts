/**
 * The props of LesionPipeline (every optional prop documents its `@default`; the values live in
 * defaults.ts) and the resolved form the concern modules receive.
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ApiAuthorization, ComputeOption, LambdaPackaging, LogLevel } from './constants.js';

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
   * @default 'gpu'
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
  /** LESION_MAX_BATCH of the GPU worker. @default DEFAULT_WORKER_MAX_BATCH (16, src/config.ts) */
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

/** The upload API props with their defaults applied (defaults.ts `withDefaults`). */
export interface ResolvedApiProps {
  readonly authorization: ApiAuthorization;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: readonly string[];
  readonly corsOrigins?: readonly string[];
  readonly throttle: ApiThrottle;
  readonly uploadUrlTtl: Duration;
  readonly downloadUrlTtl: Duration;
}

/**
 * LesionPipelineProps with every default applied: what the concern modules read, so no module
 * repeats a `?? default`. Props without a default (code overrides, alarmTopic, ...) stay optional.
 */
export interface ResolvedLesionPipelineProps extends Required<
  Omit<
    LesionPipelineProps,
    | 'alarmTopic'
    | 'alarmEmail'
    | 'reservedConcurrency'
    | 'handlerEntry'
    | 'functionCode'
    | 'runtimeLayerCode'
    | 'modelLayerCode'
    | 'layersDir'
    | 'api'
    | 'apiHandlerEntry'
    | 'apiFunctionCode'
    | 'gpuBacklogPerTask'
    | 'gpuImage'
    | 'availabilityZones'
  >
> {
  readonly alarmTopic?: sns.ITopic;
  readonly alarmEmail?: string;
  readonly reservedConcurrency?: number;
  readonly handlerEntry?: string;
  readonly functionCode?: lambda.Code;
  readonly runtimeLayerCode?: lambda.Code;
  readonly modelLayerCode?: lambda.Code;
  readonly layersDir?: string;
  /** `false`: no upload API. */
  readonly api: ResolvedApiProps | false;
  readonly apiHandlerEntry?: string;
  readonly apiFunctionCode?: lambda.Code;
  /** Derived in gpu-worker.ts from throughput x drain time when not given. */
  readonly gpuBacklogPerTask?: number;
  readonly gpuImage?: ecs.ContainerImage;
  readonly availabilityZones?: readonly string[];
}
