import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { API_ENV, loadApiConfig } from '../../src/api/config.js';
import { ENV } from '../../src/config.js';
import {
  ANALYSIS_EVENT_DETAIL_TYPES,
  ANALYSIS_EVENT_SOURCE,
  API_ROUTES,
  LAMBDA_IMAGE_MODEL_PATH,
  LAMBDA_MODEL_PATH,
  LesionPipeline,
  validateLesionPipelineProps,
} from '../../cdk/lesion-pipeline.js';
import { LesionStack } from '../../cdk/lesion-stack.js';
import { constructWith, fastProps, logicalId, newApp, resourcesOf, stackWith } from './helpers.js';

type Statement = Record<string, unknown>;

const arnOf = (id: string): unknown => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objectsArn = (bucketId: string, pattern: string): unknown => ({
  'Fn::Join': ['', [arnOf(bucketId), `/${pattern}`]],
});

/** The statements of the inline policy attached to `roleId`. */
function statementsOfRole(template: Template, roleId: string): Statement[] {
  const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) =>
    (p.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  expect(policies).toHaveLength(1);
  return ((policies[0]?.[1].PolicyDocument as { Statement: Statement[] }).Statement ?? []) as Statement[];
}

function allStatements(template: Template): Statement[] {
  const fromPolicies = resourcesOf(template, 'AWS::IAM::Policy').flatMap(
    ([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement,
  );
  const fromRoles = resourcesOf(template, 'AWS::IAM::Role').flatMap(([, p]) =>
    ((p.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }> | undefined) ?? []).flatMap(
      (x) => x.PolicyDocument.Statement,
    ),
  );
  return [...fromPolicies, ...fromRoles];
}

const actionsOf = (s: Statement): string[] => [s.Action].flat() as string[];

/** ListBucket only for keys under the two prefixes (so a missing key there is a 404, not a 403). */
const listOwnPrefixes = (bucketId: string, uploads = 'uploads/', results = 'results/'): Statement => ({
  Sid: 'ListOwnPrefixes',
  Effect: 'Allow',
  Action: 's3:ListBucket',
  Resource: arnOf(bucketId),
  Condition: { StringLike: { 's3:prefix': [`${uploads}*`, `${results}*`] } },
});

/** The analysis roles' statements, in policy order (the Lambda role adds its log group before `consume`). */
function expectedPipelineStatements(
  bucketId: string,
  busId: string,
  queueId: string,
): {
  s3: Statement[];
  putEvents: Statement;
  consume: Statement;
} {
  return {
    s3: [
      {
        Sid: 'ReadUploads',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucketId, 'uploads/*'),
      },
      {
        Sid: 'WriteResults',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: objectsArn(bucketId, 'results/*'),
      },
      // read-back for idempotency: result.json / error.json / event.json under results/<id>/
      {
        Sid: 'ReadResults',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucketId, 'results/*'),
      },
      listOwnPrefixes(bucketId),
    ],
    putEvents: { Effect: 'Allow', Action: 'events:PutEvents', Resource: arnOf(busId) },
    consume: {
      Effect: 'Allow',
      Action: [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ],
      Resource: arnOf(queueId),
    },
  };
}

describe('LesionPipeline, compute=cpu (all other props default)', () => {
  let template: Template;
  let bucketId: string;
  let logsBucketId: string;
  let queueId: string;
  let dlqId: string;
  let busId: string;

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
    bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    logsBucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineAccessLogsBucket');
    queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
    dlqId = logicalId(template, 'AWS::SQS::Queue', 'PipelineDeadLetterQueue');
    busId = logicalId(template, 'AWS::Events::EventBus', 'PipelineEventBus');
  });

  it('creates one data bucket (uploads/ + results/) and a separate access-log bucket', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logsBucketId }, LogFilePrefix: 'lesion-bucket/' },
    });
    template.hasResource('AWS::S3::Bucket', { UpdateReplacePolicy: 'Retain', DeletionPolicy: 'Retain' });
  });

  it('denies non-TLS access on both buckets (enforceSSL)', () => {
    for (const id of [bucketId, logsBucketId]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('expires results/ after 365 days and noncurrent versions after 30 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'expire-results',
            Prefix: 'results/',
            ExpirationInDays: 365,
            Status: 'Enabled',
          }),
          Match.objectLike({
            Id: 'expire-noncurrent-versions',
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it('recursion guard: only uploads/ notifies the queue, and results/ is outside that prefix', () => {
    template.resourceCountIs('Custom::S3BucketNotifications', 1);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: bucketId },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
            QueueArn: arnOf(queueId),
          },
        ],
      },
    });
    const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('PipelineAnalyze'),
    )!;
    const env = (fn.Environment as { Variables: Record<string, string> }).Variables;
    expect(env.LESION_UPLOADS_PREFIX).toBe('uploads/');
    expect(env.LESION_RESULTS_PREFIX).toBe('results/');
    expect(env.LESION_RESULTS_PREFIX!.startsWith(env.LESION_UPLOADS_PREFIX!)).toBe(false);
  });

  it('queue: SSE, visibility timeout 6 x the 60 s function timeout, DLQ after 3 receives', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: 3 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: Match.arrayWith(['sqs:SendMessage']),
            Principal: { Service: 's3.amazonaws.com' },
          }),
        ]),
      },
    });
  });

  it('alarms on DLQ depth > 0 and on the age of the oldest message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 900,
    });
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

  it('grants no s3:DeleteObject anywhere, ListBucket only prefix-limited, PutObject on uploads/ only to the API', () => {
    const statements = allStatements(template);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      for (const action of actionsOf(s)) {
        expect(action).not.toMatch(/^s3:(\*|Delete|List\*)/);
      }
      if (actionsOf(s).includes('s3:ListBucket')) {
        expect(s).toEqual(listOwnPrefixes(bucketId));
      }
      if (actionsOf(s).some((a) => a.startsWith('s3:Put') && a !== 's3:PutBucketNotification')) {
        if (JSON.stringify(s.Resource).includes('uploads/')) expect(s.Sid).toBe('PresignUploads');
      }
    }
    const presign = statements.filter((s) => s.Sid === 'PresignUploads');
    expect(presign).toHaveLength(1);
    const apiRoleId = logicalId(template, 'AWS::IAM::Role', 'PipelineApiFunctionRole');
    expect(statementsOfRole(template, apiRoleId)).toContainEqual(presign[0]);
  });

  it('log groups keep 30 days and are deleted with the stack (buckets are retained)', () => {
    for (const prefix of [
      'PipelineFunctionLogGroup',
      'PipelineAnalysisEventsLogGroup',
      'PipelineApiFunctionLogGroup',
      'PipelineApiAccessLogGroup',
    ]) {
      const id = logicalId(template, 'AWS::Logs::LogGroup', prefix);
      expect(template.toJSON().Resources[id]).toMatchObject({
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: 'Delete',
      });
    }
    for (const [, bucket] of Object.entries(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('EventBridge: bus lesion-analysis, rule forwarding completion/failure events to a log group', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'lesion-analysis' });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/events/lesion-analysis',
      RetentionInDays: 30,
    });
    const logGroupId = logicalId(template, 'AWS::Logs::LogGroup', 'PipelineAnalysisEventsLogGroup');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      State: 'ENABLED',
      EventPattern: { source: [ANALYSIS_EVENT_SOURCE], 'detail-type': [...ANALYSIS_EVENT_DETAIL_TYPES] },
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::Join': [
              '',
              Match.arrayWith([
                ':logs:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':log-group:',
                { Ref: logGroupId },
              ]),
            ],
          },
        }),
      ],
    });
    expect(ANALYSIS_EVENT_DETAIL_TYPES).toEqual(['LesionAnalysisCompleted', 'LesionAnalysisFailed']);
    expect(ANALYSIS_EVENT_SOURCE).toBe('lesion-mtl');
  });

  it('outputs bucket, queue URLs, bus name and an example upload command', () => {
    template.hasOutput('BucketName', { Value: { Ref: bucketId } });
    template.hasOutput('QueueUrl', { Value: { Ref: queueId } });
    template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: dlqId } });
    template.hasOutput('EventBusName', { Value: { Ref: busId } });
    template.hasOutput('UploadCommand', {
      Value: { 'Fn::Join': ['', ['aws s3 cp ./lesion.jpg s3://', { Ref: bucketId }, '/uploads/lesion.jpg']] },
    });
    template.hasOutput('FunctionName', {});
  });

  it('creates no GPU resources', () => {
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::ECS::Cluster',
      'AWS::ECS::Service',
      'AWS::AutoScaling::AutoScalingGroup',
    ]) {
      template.resourceCountIs(type, 0);
    }
  });
});

describe('LesionPipeline, compute=gpu', () => {
  let template: Template;
  let pipeline: LesionPipeline;
  let queueId: string;

  beforeAll(() => {
    ({ template, pipeline } = constructWith({ compute: 'gpu' }));
    queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
  });

  it('has no Lambda analyze function, layers or event source mapping', () => {
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(pipeline.analyzeFunction).toBeUndefined();
    expect(pipeline.gpuService).toBeDefined();
  });

  it('VPC: 2 AZs from Fn::GetAZs (no lookup), isolated subnets, no NAT, flow logs', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      MapPublicIpOnLaunch: false,
    });
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  it('VPC endpoints: S3 gateway + SQS, ECR, Logs, EventBridge, ECS interfaces, HTTPS from the worker only', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
    });
    const services = resourcesOf(template, 'AWS::EC2::VPCEndpoint')
      .filter(([, p]) => p.VpcEndpointType === 'Interface')
      .map(([, p]) => JSON.stringify(p.ServiceName).match(/\.([a-z.-]+)"\]\]\}$/)?.[1]);
    expect(services.sort()).toEqual(
      ['ecr.api', 'ecr.dkr', 'ecs', 'ecs-agent', 'ecs-telemetry', 'events', 'logs', 'sqs'].sort(),
    );
    const sg = logicalId(template, 'AWS::EC2::SecurityGroup', 'PipelineEndpointSecurityGroup');
    const ingress = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, p]) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [sg, 'GroupId'] }),
    );
    expect(ingress).toHaveLength(2);
    for (const [, p] of ingress) {
      expect(p).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
      expect(p.CidrIp).toBeUndefined();
    }
  });

  it('ASG: launch template on the GPU ECS-optimized AL2023 AMI, g5.xlarge, IMDSv2, encrypted root, 0..2', () => {
    const params = template.toJSON().Parameters as Record<string, { Default?: string }>;
    const amiParam = Object.entries(params).find(([, p]) =>
      p.Default?.includes('/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/'),
    );
    expect(amiParam).toBeDefined();
    template.resourceCountIs('AWS::AutoScaling::LaunchConfiguration', 0);
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        ImageId: { Ref: amiParam![0] },
        InstanceType: 'g5.xlarge',
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 100, VolumeType: 'gp3' } },
        ],
      }),
    });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MaxSize: '2',
      NewInstancesProtectedFromScaleIn: true,
    });
  });

  it('capacity provider with managed scaling is the service strategy', () => {
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: {
        ManagedScaling: { Status: 'ENABLED', TargetCapacity: 100 },
        ManagedTerminationProtection: 'ENABLED',
      },
    });
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('task definition: one GPU, awsvpc, the env contract of the worker', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EC2'],
      NetworkMode: 'awsvpc',
      ContainerDefinitions: [
        Match.objectLike({
          ResourceRequirements: [{ Type: 'GPU', Value: '1' }],
          MemoryReservation: 12288,
          StopTimeout: 120,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          HealthCheck: {
            Command: ['CMD', 'node', 'healthcheck.mjs'],
            Interval: 30,
            Timeout: 5,
            Retries: 3,
            StartPeriod: 120,
          },
        }),
      ],
    });
    const [, taskDef] = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]!;
    const container = (
      taskDef.ContainerDefinitions as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>
    )[0]!;
    const env = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
    expect(env).toEqual({
      LESION_QUEUE_URL: { Ref: queueId },
      LESION_MAX_BATCH: '16',
      LESION_EXECUTION_PROVIDER: 'cuda',
      LESION_MODEL_PATH: '/app/models/lesion-mtl.onnx',
      LESION_UPLOADS_PREFIX: 'uploads/',
      LESION_RESULTS_PREFIX: 'results/',
      LESION_RESULTS_BUCKET: { Ref: logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket') },
      LESION_MAX_PIXELS: '60000000',
      LESION_MAX_BYTES: String(40 * 1024 * 1024),
      LESION_OVERLAY_MAX_SIDE: '1024',
      LESION_EVENT_BUS_NAME: { Ref: logicalId(template, 'AWS::Events::EventBus', 'PipelineEventBus') },
      LESION_MAX_RECEIVE_COUNT: '3',
      POWERTOOLS_SERVICE_NAME: 'lesion-mtl',
      POWERTOOLS_METRICS_NAMESPACE: 'LesionMtl',
      LOG_LEVEL: 'INFO',
      ORT_DISABLE_TELEMETRY: '1',
      AWS_REGION: { Ref: 'AWS::Region' },
    });
  });

  it('service starts at 0 and step-scales 0..2 on the queue backlog, a task per 5 minutes of estimated throughput', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 0,
      LaunchType: Match.absent(),
      CapacityProviderStrategy: [Match.objectLike({ Weight: 1 })],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      MaxCapacity: 2,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: [
          // bounds are relative to the alarm threshold (1): 1..45,000 messages = 1 task (150/s x 300 s)
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 45_000, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 45_000, ScalingAdjustment: 2 },
        ],
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({
        StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }],
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateNumberOfMessagesVisible',
            }),
          }),
        }),
      ]),
    });
  });

  it('task role: exactly read uploads/*, write + read back results/*, list those prefixes, put events, consume', () => {
    const roleId = logicalId(template, 'AWS::IAM::Role', 'PipelineGpuTaskRole');
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
        ],
      },
    });
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    const busId = logicalId(template, 'AWS::Events::EventBus', 'PipelineEventBus');
    const { s3, putEvents, consume } = expectedPipelineStatements(bucketId, busId, queueId);
    expect(statementsOfRole(template, roleId)).toEqual([...s3, putEvents, consume]);
  });
});

describe('GPU scaling from measured throughput', () => {
  it('derives the backlog per task from throughput x drain time, up to the maximum the user sets', () => {
    // 20 uploads/s per task, drained within 10 minutes: 12,000 messages per task, at most 4 tasks
    const { template } = constructWith({
      compute: 'gpu',
      gpuImagesPerSecondPerTask: 20,
      gpuBacklogDrainTime: Duration.minutes(10),
      gpuMaxInstances: 4,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      MaxCapacity: 4,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 12_000, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 12_000, MetricIntervalUpperBound: 24_000, ScalingAdjustment: 2 },
          { MetricIntervalLowerBound: 24_000, MetricIntervalUpperBound: 36_000, ScalingAdjustment: 3 },
          { MetricIntervalLowerBound: 36_000, ScalingAdjustment: 4 },
        ],
      }),
    });
  });

  it('an explicit gpuBacklogPerTask wins over the derived value', () => {
    const { template } = constructWith({
      compute: 'gpu',
      gpuBacklogPerTask: 500,
      gpuImagesPerSecondPerTask: 20,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 500, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 500, ScalingAdjustment: 2 },
        ],
      }),
    });
  });
});

describe('the default deploy (no compute prop, as `cdk deploy` with no flags)', () => {
  it('is the GPU container path: an ECS service on GPU instances and no analyze Lambda', () => {
    const { template, pipeline } = constructWith({});
    expect(pipeline.compute).toBe('gpu');
    expect(pipeline.gpuService).toBeDefined();
    expect(pipeline.analyzeFunction).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it('notifies a topic of its own when no alarm topic is given, with an optional e-mail subscription', () => {
    const { template } = constructWith({ compute: 'cpu', alarmEmail: 'oncall@example.org' });
    const topicId = logicalId(template, 'AWS::SNS::Topic', 'PipelineAlarmTopic');
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.org',
      TopicArn: { Ref: topicId },
    });
    for (const [, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(([id]) =>
      /DeadLetterQueueAlarm|QueueAgeAlarm/.test(id),
    ))
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
  });
});

describe('LesionPipeline, compute=both', () => {
  it('runs the Lambda and the GPU service on the same queue', () => {
    const { template, pipeline } = constructWith({ compute: 'both' });
    const queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: arnOf(queueId) });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([{ Name: 'LESION_QUEUE_URL', Value: { Ref: queueId } }]),
        }),
      ],
    });
    expect(pipeline.analyzeFunction).toBeDefined();
    expect(pipeline.gpuService).toBeDefined();
    expect(pipeline.queue).toBeDefined();
  });
});

describe('LesionPipeline, overridden props', () => {
  it('natGateways: 1 puts the workers behind a NAT gateway and drops the endpoints', () => {
    const { template } = constructWith({ compute: 'gpu', natGateways: 1 });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it('explicit env + availabilityZones synthesizes without any context lookup', () => {
    const app = newApp();
    const stack = new LesionStack(app, 'EnvStack', {
      env: { account: '123456789012', region: 'eu-west-1' },
      pipeline: fastProps({ compute: 'gpu', availabilityZones: ['eu-west-1a', 'eu-west-1b'] }),
    });
    const assembly = app.synth();
    expect(assembly.manifest.missing).toBeUndefined();
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'eu-west-1b' });
  });

  it('explicit env without availabilityZones is rejected (it would need an AZ lookup)', () => {
    const stack = new Stack(newApp(), 'EnvStack', { env: { account: '123456789012', region: 'eu-west-1' } });
    expect(() => new LesionPipeline(stack, 'Pipeline', fastProps({ compute: 'gpu' }))).toThrow(
      /has an explicit region: set availabilityZones/,
    );
  });

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

  it('custom prefixes move the notification filter, the env and the IAM resources together', () => {
    const { template } = constructWith({
      compute: 'cpu',
      uploadsPrefix: 'in/',
      resultsPrefix: 'out/',
      functionTimeout: Duration.seconds(120),
    });
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [
          Match.objectLike({ Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'in/' }] } } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({ LESION_UPLOADS_PREFIX: 'in/', LESION_RESULTS_PREFIX: 'out/' }),
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 720 });
    const statements = allStatements(template);
    const resources = JSON.stringify(statements.map((s) => s.Resource));
    expect(resources).toContain(JSON.stringify(objectsArn(bucketId, 'in/*')));
    expect(resources).toContain(JSON.stringify(objectsArn(bucketId, 'out/*')));
    expect(resources).not.toContain('uploads/');
    const lists = statements.filter((s) => actionsOf(s).includes('s3:ListBucket'));
    expect(lists).toHaveLength(2); // analyze function + API function
    for (const st of lists) expect(st).toEqual(listOwnPrefixes(bucketId, 'in/', 'out/'));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          LESION_UPLOAD_BUCKET: { Ref: bucketId },
          LESION_UPLOADS_PREFIX: 'in/',
        }),
      },
    });
  });

  it('compute=both: both analysis roles always read back results/* and list only their prefixes', () => {
    const { template } = constructWith({ compute: 'both' });
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    const busId = logicalId(template, 'AWS::Events::EventBus', 'PipelineEventBus');
    const queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
    const { s3, putEvents, consume } = expectedPipelineStatements(bucketId, busId, queueId);
    expect(statementsOfRole(template, logicalId(template, 'AWS::IAM::Role', 'PipelineGpuTaskRole'))).toEqual([
      ...s3,
      putEvents,
      consume,
    ]);
    const fnStatements = statementsOfRole(
      template,
      logicalId(template, 'AWS::IAM::Role', 'PipelineFunctionRole'),
    );
    expect(fnStatements.slice(0, 5)).toEqual([...s3, putEvents]);
    for (const st of allStatements(template)) {
      for (const action of actionsOf(st)) expect(action).not.toMatch(/^s3:(\*|Delete)/);
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

  it('exposes the created resources as public fields', () => {
    const { pipeline } = constructWith({ compute: 'both' });
    for (const field of [
      'bucket',
      'accessLogsBucket',
      'queue',
      'deadLetterQueue',
      'eventBus',
      'eventsRule',
      'eventsLogGroup',
      'deadLetterAlarm',
      'queueAgeAlarm',
      'analyzeFunction',
      'functionRole',
      'functionLogGroup',
      'runtimeLayer',
      'modelLayer',
      'vpc',
      'cluster',
      'autoScalingGroup',
      'capacityProvider',
      'gpuTaskDefinition',
      'gpuTaskRole',
      'gpuService',
      'gpuLogGroup',
      'gpuTaskCount',
      'httpApi',
      'apiStage',
      'apiRoutes',
      'apiFunction',
      'apiFunctionRole',
      'apiFunctionLogGroup',
      'apiAccessLogGroup',
      'apiUrl',
      'apiAuthorization',
    ] as const) {
      expect(pipeline[field]).toBeDefined();
    }
  });
});

/** The API function's environment with CloudFormation refs replaced by a bucket name. */
function apiEnvOf(template: Template, bucketName: string): Record<string, string> {
  const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) =>
    id.startsWith('PipelineApiFunction'),
  )!;
  const vars = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : bucketName]),
  );
}

describe('upload API (default: on, IAM authorization)', () => {
  let template: Template;
  let pipeline: LesionPipeline;
  let bucketId: string;
  let apiId: string;

  beforeAll(() => {
    ({ template, pipeline } = constructWith());
    bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    apiId = logicalId(template, 'AWS::ApiGatewayV2::Api', 'PipelineApi');
  });

  it('HTTP API with POST /analyses and GET /analyses/{id}, both AWS_IAM, on one Lambda integration', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.absent(),
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0); // IAM needs no authorizer resource
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    const integrationId = logicalId(template, 'AWS::ApiGatewayV2::Integration', 'PipelineApi');
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineApiFunction');
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: arnOf(fnId),
    });
    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, p]) => p);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(
      API_ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['GET /analyses/{id}', 'POST /analyses']);
    for (const route of routes) {
      expect(route).toMatchObject({
        ApiId: { Ref: apiId },
        AuthorizationType: 'AWS_IAM',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
      expect(route.AuthorizerId).toBeUndefined();
    }
    expect(pipeline.apiAuthorization).toBe('iam');
  });

  it('$default stage: auto-deployed, throttled 50 rps / burst 100, JSON access logs to a 30-day log group', () => {
    const accessLogsId = logicalId(template, 'AWS::Logs::LogGroup', 'PipelineApiAccessLogGroup');
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: arnOf(accessLogsId), Format: Match.anyValue() },
    });
    const [, stage] = resourcesOf(template, 'AWS::ApiGatewayV2::Stage')[0]!;
    const format = JSON.parse((stage.AccessLogSettings as { Format: string }).Format) as Record<
      string,
      string
    >;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      principal: '$context.identity.userArn',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
    expect(Object.values(format).join(' ')).not.toMatch(/body|querystring/i);
  });

  it('API function: nodejs22.x, 256 MB, the env src/api/config.ts reads, no model or layers', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('upload API'),
      Runtime: 'nodejs22.x',
      Architectures: ['x86_64'],
      MemorySize: 256,
      Timeout: 10,
      Layers: Match.absent(),
      Environment: {
        Variables: {
          LESION_UPLOAD_BUCKET: { Ref: bucketId },
          LESION_RESULTS_BUCKET: { Ref: bucketId },
          LESION_UPLOADS_PREFIX: 'uploads/',
          LESION_RESULTS_PREFIX: 'results/',
          LESION_MAX_BYTES: String(40 * 1024 * 1024),
          LESION_API_UPLOAD_URL_TTL_SECONDS: '900',
          LESION_API_DOWNLOAD_URL_TTL_SECONDS: '300',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('the environment is exactly the contract of loadApiConfig (names from src/, values parse)', () => {
    const env = apiEnvOf(template, 'lesion-data');
    const read = new Set<string>([
      ...Object.values(API_ENV),
      ENV.uploadsPrefix,
      ENV.resultsPrefix,
      ENV.resultsBucket,
      ENV.maxBytes,
    ]);
    for (const name of Object.keys(env)) {
      if (name === 'LOG_LEVEL' || name === 'NODE_OPTIONS') continue; // Powertools / Node
      expect(read).toContain(name);
    }
    expect(loadApiConfig(env)).toEqual({
      uploadBucket: 'lesion-data',
      resultsBucket: 'lesion-data',
      uploadsPrefix: 'uploads/',
      resultsPrefix: 'results/',
      maxBytes: 40 * 1024 * 1024,
      uploadUrlTtlSeconds: 900,
      downloadUrlTtlSeconds: 300,
    });
  });

  it('API role: exactly presign uploads/*, read results/*, list those prefixes, write its log group', () => {
    const roleId = logicalId(template, 'AWS::IAM::Role', 'PipelineApiFunctionRole');
    const logGroupId = logicalId(template, 'AWS::Logs::LogGroup', 'PipelineApiFunctionLogGroup');
    expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    expect(statementsOfRole(template, roleId)).toEqual([
      {
        Sid: 'PresignUploads',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: objectsArn(bucketId, 'uploads/*'),
      },
      {
        Sid: 'ReadResults',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucketId, 'results/*'),
      },
      listOwnPrefixes(bucketId),
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(logGroupId) },
    ]);
  });

  it('API Gateway may invoke the function for the two route paths only', () => {
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineApiFunction');
    const permissions = resourcesOf(template, 'AWS::Lambda::Permission').filter(
      ([, p]) => JSON.stringify(p.FunctionName) === JSON.stringify(arnOf(fnId)),
    );
    expect(
      permissions
        .map(([, p]) => (p.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1))
        .sort(),
    ).toEqual(['/*/*/analyses', '/*/*/analyses/{id}']);
    for (const [, p] of permissions) expect(p.Principal).toBe('apigateway.amazonaws.com');
  });

  it('no CORS rule on the bucket unless corsOrigins is given', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: Match.anyValue(),
      CorsConfiguration: Match.absent(),
    });
  });

  it('grantApiInvoke gives execute-api:Invoke on exactly the two routes', () => {
    const fresh = new Stack(newApp(), 'GrantStack');
    const freshPipeline = new LesionPipeline(fresh, 'Pipeline', fastProps());
    const caller = new iam.Role(fresh, 'Backend', { assumedBy: new iam.AccountRootPrincipal() });
    freshPipeline.grantApiInvoke(caller);
    const t = Template.fromStack(fresh);
    const statements = statementsOfRole(t, logicalId(t, 'AWS::IAM::Role', 'Backend'));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
    const suffixes = (statements[0]!.Resource as Array<{ 'Fn::Join': [string, unknown[]] }>).map((r) =>
      r['Fn::Join'][1].at(-1),
    );
    // the stage is `*` ($default), the path parameter becomes `*` in the IAM resource
    expect(suffixes.sort()).toEqual(['/*/GET/analyses/*', '/*/POST/analyses']);
  });
});

describe('upload API, overridden props', () => {
  const jwtApi = {
    authorization: 'jwt' as const,
    jwtIssuer: 'https://idp.example.org/realms/tele',
    jwtAudience: ['lesion-api', 'tele-backend'],
  };

  it("authorization 'jwt': one JWT authorizer (issuer, audiences, Authorization header) on both routes", () => {
    const { template, pipeline } = constructWith({ api: jwtApi });
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    const authorizerId = logicalId(template, 'AWS::ApiGatewayV2::Authorizer', 'PipelineApi');
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: jwtApi.jwtIssuer, Audience: jwtApi.jwtAudience },
    });
    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route');
    expect(routes).toHaveLength(2);
    for (const [, route] of routes) {
      expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }
    const [, stage] = resourcesOf(template, 'AWS::ApiGatewayV2::Stage')[0]!;
    expect((stage.AccessLogSettings as { Format: string }).Format).toContain(
      '$context.authorizer.claims.sub',
    );
    expect(() => pipeline.grantApiInvoke(new iam.AccountRootPrincipal())).toThrow(
      "grantApiInvoke needs the upload API with api.authorization 'iam'",
    );
  });

  it('corsOrigins: a bucket CORS rule for the presigned PUT and CORS preflight on the API', () => {
    const origins = ['https://app.example.org', 'http://localhost:5173'];
    const { template } = constructWith({ api: { ...jwtApi, corsOrigins: origins } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          {
            Id: 'presigned-upload-put',
            AllowedMethods: ['PUT'],
            AllowedOrigins: origins,
            AllowedHeaders: ['content-type'],
            MaxAge: 3000,
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: origins,
        AllowMethods: ['GET', 'POST'],
        AllowHeaders: ['authorization', 'content-type'],
        ExposeHeaders: ['location', 'retry-after'],
        MaxAge: 600,
      },
    });
  });

  it('throttle, TTLs, maxBytes and tracing are wired through', () => {
    const { template } = constructWith({
      maxBytes: 10 * 1024 * 1024,
      tracing: true,
      api: {
        throttle: { rateLimit: 5, burstLimit: 10 },
        uploadUrlTtl: Duration.minutes(5),
        downloadUrlTtl: Duration.minutes(1),
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
    const env = apiEnvOf(template, 'b');
    expect(loadApiConfig(env)).toMatchObject({
      maxBytes: 10 * 1024 * 1024,
      uploadUrlTtlSeconds: 300,
      downloadUrlTtlSeconds: 60,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('upload API'),
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('api: false leaves out the API, its function, role, log groups and output', () => {
    const { template, stack } = stackWith({ api: false });
    for (const type of [
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Stage',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Integration',
    ]) {
      template.resourceCountIs(type, 0);
    }
    expect(resourcesOf(template, 'AWS::IAM::Role').filter(([id]) => id.startsWith('PipelineApi'))).toEqual(
      [],
    );
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('ApiUrl');
    expect(stack.pipeline.apiUrl).toBeUndefined();
    expect(() => stack.pipeline.grantApiInvoke(new iam.AccountRootPrincipal())).toThrow(
      /needs the upload API/,
    );
  });

  it('the stack outputs the API URL and its log groups', () => {
    const { template } = stackWith();
    const apiId = logicalId(template, 'AWS::ApiGatewayV2::Api', 'PipelineApi');
    template.hasOutput('ApiUrl', {
      Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] },
      Description: Match.stringLikeRegexp('IAM'),
    });
    template.hasOutput('ApiFunctionLogGroupName', {});
    template.hasOutput('ApiAccessLogGroupName', {});
  });
});

describe('LesionPipeline prop validation', () => {
  const build = (props: Parameters<typeof fastProps>[0]) => () =>
    new LesionPipeline(new Stack(newApp(), 'S'), 'Pipeline', fastProps(props));

  it('accepts the defaults', () => {
    expect(validateLesionPipelineProps({})).toEqual([]);
  });

  it('collects every problem into one error', () => {
    expect(
      build({
        reservedConcurrency: 0,
        maxConcurrency: 2,
        batchSize: 11,
        visibilityTimeout: Duration.seconds(60),
      }),
    ).toThrow(
      'Invalid LesionPipeline props (4):\n' +
        '  - batchSize must be an integer from 1 to 10, got 11\n' +
        '  - visibilityTimeout (60 s) must be greater than functionTimeout (60 s); AWS recommends 6x (360 s)\n' +
        '  - reservedConcurrency must be an integer >= 1, got 0\n' +
        '  - maxConcurrency (2) must not exceed reservedConcurrency (0): the SQS poller would be throttled and messages would burn receives toward the DLQ',
    );
  });

  it("api 'jwt' without issuer and audience: both problems, collected with the others into one error", () => {
    expect(build({ batchSize: 0, api: { authorization: 'jwt' } })).toThrow(
      'Invalid LesionPipeline props (3):\n' +
        '  - batchSize must be an integer from 1 to 10, got 0\n' +
        "  - api.authorization 'jwt' needs api.jwtIssuer, the https:// URL of the token issuer (iss), got none\n" +
        "  - api.authorization 'jwt' needs api.jwtAudience, one or more non-empty audiences (aud or client_id)",
    );
    expect(
      validateLesionPipelineProps({
        api: { authorization: 'jwt', jwtIssuer: 'https://idp.example.org/', jwtAudience: ['lesion'] },
      }),
    ).toEqual([]);
    expect(validateLesionPipelineProps({ api: false })).toEqual([]);
  });

  it('rejects overlapping prefixes (recursion)', () => {
    expect(validateLesionPipelineProps({ uploadsPrefix: 'data/', resultsPrefix: 'data/results/' })).toEqual([
      "resultsPrefix 'data/results/' and uploadsPrefix 'data/' must not overlap: results written under the notification filter would trigger the pipeline again (recursion)",
    ]);
    expect(validateLesionPipelineProps({ resultsPrefix: 'uploads/' })).toHaveLength(1);
  });

  it.each([
    [
      { uploadsPrefix: 'uploads' },
      "uploadsPrefix 'uploads' must be a non-empty relative key prefix ending in '/' (e.g. 'uploads/')",
    ],
    [{ compute: 'tpu' as never }, "compute must be one of cpu, gpu, both, got 'tpu'"],
    [{ batchSize: 0 }, 'batchSize must be an integer from 1 to 10, got 0'],
    [{ maxReceiveCount: 0 }, 'maxReceiveCount must be an integer from 1 to 1000, got 0'],
    [{ memorySize: 64 }, 'memorySize must be an integer from 128 to 10240 MB, got 64'],
    [{ functionTimeout: Duration.minutes(16) }, 'functionTimeout must be from 1 to 900 seconds, got 960'],
    [{ maxConcurrency: 1 }, 'maxConcurrency must be an integer from 2 to 1000, got 1'],
    [
      { natGateways: 3 },
      'natGateways must be an integer from 0 to the number of availability zones (2), got 3',
    ],
    [{ gpuMaxInstances: 0 }, 'gpuMaxInstances must be an integer from 1 to 20, got 0'],
    [
      { eventBusName: 'default' },
      "eventBusName 'default' must be 1-256 of [A-Za-z0-9._-/] and not 'default'",
    ],
    [{ resultsExpiration: Duration.hours(1) }, 'resultsExpiration must be at least 1 day(s)'],
    [{ visibilityTimeout: Duration.hours(13) }, 'visibilityTimeout must be at most 12 hours, got 46800 s'],
    [{ api: { authorization: 'basic' as never } }, "api.authorization must be one of iam, jwt, got 'basic'"],
    [
      { api: { jwtAudience: ['lesion'] } },
      "api.jwtIssuer / api.jwtAudience apply to api.authorization 'jwt' only",
    ],
    [
      { api: { authorization: 'jwt' as const, jwtIssuer: 'http://idp.example.org', jwtAudience: ['a'] } },
      "api.authorization 'jwt' needs api.jwtIssuer, the https:// URL of the token issuer (iss), got 'http://idp.example.org'",
    ],
    [
      { api: { corsOrigins: ['https://app.example.org/', '*'] } },
      "api.corsOrigins must be a non-empty list of origins like https://app.example.org (scheme://host[:port], no path, no '*'), got 'https://app.example.org/', '*'",
    ],
    [
      { api: { throttle: { rateLimit: 0, burstLimit: 10 } } },
      'api.throttle.rateLimit must be a number > 0 (requests per second), got 0',
    ],
    [
      { api: { throttle: { rateLimit: 10, burstLimit: 2.5 } } },
      'api.throttle.burstLimit must be an integer >= 1, got 2.5',
    ],
    [
      { api: { uploadUrlTtl: Duration.days(8) } },
      'api.uploadUrlTtl must be a whole number of seconds from 1 to 604800 (7 days), got 691200',
    ],
  ])('rejects %j', (props, message) => {
    expect(validateLesionPipelineProps(props)).toEqual([message]);
  });

  it('fails with a fix-it message when the layer folders were not built', () => {
    expect(
      () =>
        new LesionPipeline(new Stack(newApp(), 'S'), 'Pipeline', {
          compute: 'cpu',
          layersDir: '/nonexistent/layers',
          functionCode: fastProps().functionCode!,
        }),
    ).toThrow(/Runtime layer folder .* is missing: run `npm run build:layers`/);
  });

  it('takes another GPU instance type', () => {
    const { template } = constructWith({
      compute: 'gpu',
      gpuInstanceType: new ec2.InstanceType('g6.xlarge'),
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g6.xlarge' }),
    });
  });
});
