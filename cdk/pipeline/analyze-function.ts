/** The analyze Lambda (compute cpu | both): zip + layers or container image, fed by the queue. */
import fs from 'node:fs';
import path from 'node:path';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as lambdaNodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { grantPipelineAccess } from './access.js';
import type { BucketPrefixes } from './access.js';
import { ENV } from '../../src/config.js';
import { esmBundling } from './bundling.js';
import {
  DOCKER_CONTEXT_EXCLUDES,
  LAMBDA_IMAGE_MODEL_PATH,
  LAMBDA_MODEL_PATH,
  LambdaPackaging,
  LAYER_PROVIDED_MODULES,
  REPO_ROOT,
} from './constants.js';
import type { ResolvedLesionPipelineProps } from './props.js';

export interface AnalyzeFunctionResources {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Present with zip packaging. */
  readonly runtimeLayer?: lambda.LayerVersion;
  readonly modelLayer?: lambda.LayerVersion;
}

/** The layer folders `layers/build.ts` produces. */
export function defaultLayerDirs(layersDir: string = path.join(REPO_ROOT, 'layers')): {
  runtime: string;
  model: string;
} {
  return { runtime: path.join(layersDir, 'runtime', 'build'), model: path.join(layersDir, 'model', 'build') };
}

/**
 * Creates the function in `scope` (ids FunctionRole, FunctionLogGroup, RuntimeLayer, ModelLayer,
 * AnalyzeFunction) with an SQS event source on `queue`.
 */
export function createAnalyzeFunction(
  scope: Construct,
  props: ResolvedLesionPipelineProps,
  deps: {
    readonly data: BucketPrefixes;
    readonly eventBus: events.IEventBus;
    readonly queue: sqs.IQueue;
    readonly sharedEnv: Record<string, string>;
  },
): AnalyzeFunctionResources {
  const role = new iam.Role(scope, 'FunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'lesion-mtl analyze function: read uploads, write results, consume the queue, put events',
  });
  grantPipelineAccess(role, deps.data, deps.eventBus);
  const logGroup = new logs.LogGroup(scope, 'FunctionLogGroup', {
    retention: props.logRetention,
    removalPolicy: props.logsRemovalPolicy,
  });
  logGroup.grantWrite(role);

  const common = {
    architecture: lambda.Architecture.X86_64, // the layer's onnxruntime/sharp binaries are linux-x64
    memorySize: props.memorySize,
    timeout: props.functionTimeout,
    role,
    logGroup,
    tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    description: 'lesion-mtl: segment + classify uploaded dermoscopy images (onnxruntime CPU)',
    ...(props.reservedConcurrency !== undefined
      ? { reservedConcurrentExecutions: props.reservedConcurrency }
      : {}),
  };
  const env = {
    ...deps.sharedEnv,
    [ENV.executionProvider]: 'cpu',
    [ENV.intraOpThreads]: String(props.intraOpThreads),
    NODE_OPTIONS: '--enable-source-maps',
  };

  let fn: lambda.Function;
  let runtimeLayer: lambda.LayerVersion | undefined;
  let modelLayer: lambda.LayerVersion | undefined;
  if (props.lambdaPackaging === LambdaPackaging.IMAGE) {
    fn = new lambda.DockerImageFunction(scope, 'AnalyzeFunction', {
      ...common,
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: 'functions/analyze/Dockerfile',
        exclude: [...DOCKER_CONTEXT_EXCLUDES],
        platform: Platform.LINUX_AMD64,
      }),
      environment: { ...env, [ENV.modelPath]: LAMBDA_IMAGE_MODEL_PATH },
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
    runtimeLayer = new lambda.LayerVersion(scope, 'RuntimeLayer', {
      code: layerCode(props.runtimeLayerCode, dirs.runtime, 'Runtime'),
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      compatibleArchitectures: [lambda.Architecture.X86_64],
      description: 'onnxruntime-node + sharp, linux-x64 glibc only (layers/build.ts)',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    modelLayer = new lambda.LayerVersion(scope, 'ModelLayer', {
      code: layerCode(props.modelLayerCode, dirs.model, 'Model'),
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      description: 'lesion-mtl ONNX model + contract at /opt/models',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const zipProps = {
      ...common,
      runtime: lambda.Runtime.NODEJS_22_X,
      layers: [runtimeLayer, modelLayer],
      environment: { ...env, [ENV.modelPath]: LAMBDA_MODEL_PATH },
    };
    if (props.functionCode) {
      fn = new lambda.Function(scope, 'AnalyzeFunction', {
        ...zipProps,
        code: props.functionCode,
        handler: 'index.handler',
      });
    } else {
      const entry = props.handlerEntry ?? path.join(REPO_ROOT, 'functions', 'analyze', 'handler.ts');
      if (!fs.existsSync(entry)) {
        throw new Error(`Lambda handler entry ${entry} not found (expected functions/analyze/handler.ts)`);
      }
      fn = new lambdaNodejs.NodejsFunction(scope, 'AnalyzeFunction', {
        ...zipProps,
        entry,
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: esmBundling(LAYER_PROVIDED_MODULES), // onnxruntime-node + sharp come from the runtime layer
      });
    }
  }
  fn.addEventSource(
    new SqsEventSource(deps.queue, {
      batchSize: props.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency,
    }),
  );
  if (props.tracing) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
    });
  }
  if (props.lambdaPackaging === LambdaPackaging.ZIP) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: the project standard (middy 6, layer binaries) is Node 22.',
    });
  }
  return { fn, role, logGroup, runtimeLayer, modelLayer };
}
