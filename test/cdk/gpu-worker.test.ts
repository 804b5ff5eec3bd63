/** The GPU worker: VPC, endpoints, cluster, ASG, task, service, scaling (cdk/pipeline/gpu-worker.ts). */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LesionPipeline } from '../../cdk/lesion-pipeline.js';
import { LesionStack } from '../../cdk/lesion-stack.js';
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

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
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
});
