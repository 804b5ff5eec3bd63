/**
 * LesionPipeline composes one module per concern from cdk/pipeline/. Each concern is a function
 * that creates its resources in THIS construct's scope with the same ids as before, never a nested
 * Construct: a new level in the construct path changes CloudFormation logical IDs, and then every
 * existing deployment would get a new bucket and new queues (test/cdk/logical-ids.test.ts guards it).
 */
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeCdkSingletons } from './pipeline/access.js';
import { createAlarms } from './pipeline/alarms.js';
import { createAnalyzeFunction } from './pipeline/analyze-function.js';
import { ComputeOption } from './pipeline/constants.js';
import type { ApiAuthorization } from './pipeline/constants.js';
import { withDefaults } from './pipeline/defaults.js';
import { analysisEnvironment } from './pipeline/environment.js';
import { createEvents } from './pipeline/events.js';
import { createGpuWorker } from './pipeline/gpu-worker.js';
import type { LesionPipelineProps } from './pipeline/props.js';
import { createStorage } from './pipeline/storage.js';
import { createUploadApi, grantApiInvoke } from './pipeline/upload-api.js';
import { assertValidLesionPipelineProps } from './pipeline/validation.js';

// The public surface, unchanged: everything used to be declared in this file.
export {
  API_AUTHORIZATIONS,
  API_ROUTES,
  ANALYSIS_EVENT_DETAIL_TYPES,
  ANALYSIS_EVENT_SOURCE,
  ApiAuthorization,
  COMPUTE_OPTIONS,
  ComputeOption,
  DOCKER_CONTEXT_EXCLUDES,
  GPU_MODEL_PATH,
  GPU_VPC_INTERFACE_ENDPOINTS,
  GPU_WORKER_HEALTH_CHECK,
  LAMBDA_IMAGE_MODEL_PATH,
  LAMBDA_MODEL_PATH,
  LambdaPackaging,
  LAYER_PROVIDED_MODULES,
  REPO_ROOT,
} from './pipeline/constants.js';
export type { LogLevel } from './pipeline/constants.js';
export { LESION_PIPELINE_DEFAULTS } from './pipeline/defaults.js';
export type { ApiThrottle, LesionApiProps, LesionPipelineProps } from './pipeline/props.js';
export { validateLesionPipelineProps } from './pipeline/validation.js';
export { defaultLayerDirs } from './pipeline/analyze-function.js';

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
    assertValidLesionPipelineProps(this, props);
    const p = withDefaults(props);
    this.compute = p.compute;
    this.uploadsPrefix = p.uploadsPrefix;
    this.resultsPrefix = p.resultsPrefix;

    // Creation order is template order: keep it.
    const storage = createStorage(this, p);
    this.bucket = storage.bucket;
    this.accessLogsBucket = storage.accessLogsBucket;
    this.queue = storage.queue;
    this.deadLetterQueue = storage.deadLetterQueue;

    const alarms = createAlarms(this, p, storage);
    this.deadLetterAlarm = alarms.deadLetterAlarm;
    this.queueAgeAlarm = alarms.queueAgeAlarm;
    this.alarmTopic = alarms.alarmTopic;

    const ev = createEvents(this, p);
    this.eventBus = ev.eventBus;
    this.eventsRule = ev.eventsRule;
    this.eventsLogGroup = ev.eventsLogGroup;
    acknowledgeCdkSingletons(this, ev.eventsRule);

    const data = {
      bucket: this.bucket,
      uploadsPrefix: this.uploadsPrefix,
      resultsPrefix: this.resultsPrefix,
    };
    const analysis = {
      data,
      eventBus: this.eventBus,
      queue: this.queue,
      sharedEnv: analysisEnvironment(p, this.bucket, this.eventBus),
    };

    if (p.compute === ComputeOption.CPU || p.compute === ComputeOption.BOTH) {
      const fn = createAnalyzeFunction(this, p, analysis);
      this.analyzeFunction = fn.fn;
      this.functionRole = fn.role;
      this.functionLogGroup = fn.logGroup;
      this.runtimeLayer = fn.runtimeLayer;
      this.modelLayer = fn.modelLayer;
    }

    if (p.compute === ComputeOption.GPU || p.compute === ComputeOption.BOTH) {
      const gpu = createGpuWorker(this, p, analysis);
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

    if (p.api !== false) {
      const api = createUploadApi(this, p, p.api, data);
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
   * Let `grantee` call both routes of the upload API (`execute-api:Invoke`). Only with
   * `api.authorization: 'iam'`.
   *
   * @example
   * pipeline.grantApiInvoke(backendRole);
   */
  public grantApiInvoke(grantee: iam.IGrantable): iam.Grant[] {
    return grantApiInvoke({ routes: this.apiRoutes, authorization: this.apiAuthorization }, grantee);
  }
}
