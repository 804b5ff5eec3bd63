/** The analyze Lambda: packaging, layers, environment, event source, role (cdk/pipeline/analyze-function.ts). */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { LAMBDA_IMAGE_MODEL_PATH, LAMBDA_MODEL_PATH, LesionPipeline } from '../../cdk/lesion-pipeline.js';
import {
  arnOf,
  constructWith,
  expectedPipelineStatements,
  fastProps,
  logicalId,
  newApp,
  resourcesOf,
  stackWith,
  statementsOfRole,
} from './helpers.js';

describe('LesionPipeline, compute=cpu (all other props default)', () => {
  let template: Template;
  let bucketId: string;
  let queueId: string;
  let busId: string;

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
    bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
    busId = logicalId(template, 'AWS::Events::EventBus', 'PipelineEventBus');
  });

  it('Lambda: nodejs22.x on x86_64, 3008 MB, 60 s, runtime + model layers, the env contract', () => {
    template.resourceCountIs('AWS::Lambda::LayerVersion', 2);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleRuntimes: ['nodejs22.x'],
      CompatibleArchitectures: ['x86_64'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['x86_64'],
      MemorySize: 3008,
      Timeout: 60,
      Layers: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^PipelineRuntimeLayer') }]),
      Environment: {
        Variables: {
          LESION_MODEL_PATH: LAMBDA_MODEL_PATH,
          LESION_EXECUTION_PROVIDER: 'cpu',
          LESION_INTRA_OP_THREADS: '2',
          LESION_MAX_PIXELS: '60000000',
          LESION_MAX_BYTES: String(40 * 1024 * 1024),
          LESION_UPLOADS_PREFIX: 'uploads/',
          LESION_RESULTS_PREFIX: 'results/',
          LESION_RESULTS_BUCKET: { Ref: bucketId },
          LESION_OVERLAY_MAX_SIDE: '1024',
          LESION_EVENT_BUS_NAME: { Ref: busId },
          LESION_MAX_RECEIVE_COUNT: '3',
          POWERTOOLS_SERVICE_NAME: 'lesion-mtl',
          POWERTOOLS_METRICS_NAMESPACE: 'LesionMtl',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('PipelineAnalyze'),
    )!;
    expect(fn.Layers).toHaveLength(2);
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.TracingConfig).toBeUndefined();
  });

  it('SQS event source: batch size 4, ReportBatchItemFailures, max concurrency 10', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queueId),
      BatchSize: 4,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('function role: exactly read uploads/*, write + read back results/*, list those prefixes, put events, consume, write its log group', () => {
    const roleId = logicalId(template, 'AWS::IAM::Role', 'PipelineFunctionRole');
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
      },
    });
    expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const logGroupId = logicalId(template, 'AWS::Logs::LogGroup', 'PipelineFunctionLogGroup');
    const { s3, putEvents, consume } = expectedPipelineStatements(bucketId, busId, queueId);
    expect(statementsOfRole(template, roleId)).toEqual([
      ...s3,
      putEvents,
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(logGroupId) },
      consume,
    ]);
  });
});

describe('LesionPipeline, overridden props', () => {
  it('tracing, reserved concurrency, memory and alarm topic are wired through', () => {
    const stack = new Stack(newApp(), 'S');
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    new LesionPipeline(
      stack,
      'Pipeline',
      fastProps({
        compute: 'cpu',
        tracing: true,
        reservedConcurrency: 5,
        maxConcurrency: 5,
        memorySize: 4096,
        alarmTopic: topic,
      }),
    );
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 5,
      MemorySize: 4096,
      Environment: { Variables: Match.objectLike({ LESION_INTRA_OP_THREADS: '3' }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    const topicRef = { Ref: logicalId(template, 'AWS::SNS::Topic', 'Alarms') };
    for (const [, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.AlarmActions).toEqual([topicRef]);
    }
  });

  it("lambdaPackaging 'image' deploys functions/analyze/Dockerfile without layers", () => {
    const { template } = constructWith({ compute: 'cpu', lambdaPackaging: 'image' });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Architectures: ['x86_64'],
      Environment: { Variables: Match.objectLike({ LESION_MODEL_PATH: LAMBDA_IMAGE_MODEL_PATH }) },
    });
  });
});
