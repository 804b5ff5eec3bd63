/**
 * The GPU worker (compute gpu | both): VPC (+ endpoints without NAT), ECS cluster on a GPU Auto
 * Scaling group via a capacity provider, the worker task and service, scaled 0..N on the backlog.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as applicationautoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { backlogPerTask, backlogSteps } from '../capacity.js';
import { LESION_PIPELINE_DEFAULTS } from './defaults.js';
import { grantPipelineAccess } from './access.js';
import { ENV, WORKER_ENV } from '../../src/config.js';
import type { BucketPrefixes } from './access.js';
import {
  DOCKER_CONTEXT_EXCLUDES,
  GPU_MODEL_PATH,
  GPU_VPC_INTERFACE_ENDPOINTS,
  GPU_WORKER_HEALTH_CHECK,
  REPO_ROOT,
} from './constants.js';
import type { ResolvedLesionPipelineProps } from './props.js';

export interface GpuWorkerResources {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly capacityProvider: ecs.AsgCapacityProvider;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly taskRole: iam.Role;
  readonly service: ecs.Ec2Service;
  readonly logGroup: logs.LogGroup;
  /** Task count 0..gpuMaxInstances, step-scaled on the queue backlog. */
  readonly taskCount: ecs.ScalableTaskCount;
}

/**
 * Creates the worker in `scope` (ids VpcFlowLogGroup, Vpc, Cluster, GpuAutoScalingGroup,
 * GpuCapacityProvider, GpuWorkerLogGroup, GpuTaskRole, GpuTaskDefinition, GpuTaskSecurityGroup,
 * EndpointSecurityGroup, GpuService).
 */
export function createGpuWorker(
  scope: Construct,
  props: ResolvedLesionPipelineProps,
  deps: {
    readonly data: BucketPrefixes;
    readonly eventBus: events.IEventBus;
    readonly queue: sqs.Queue;
    readonly sharedEnv: Record<string, string>;
  },
): GpuWorkerResources {
  const { natGateways, logRetention, logsRemovalPolicy } = props;
  const maxInstances = props.gpuMaxInstances;
  const workloadSubnetType =
    natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;

  const flowLogGroup = new logs.LogGroup(scope, 'VpcFlowLogGroup', {
    retention: logRetention,
    removalPolicy: logsRemovalPolicy,
  });
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    // No lookups: explicit AZ names, or 2 AZs resolved by CloudFormation (Fn::GetAZs) in an env-agnostic stack.
    ...(props.availabilityZones
      ? { availabilityZones: [...props.availabilityZones] }
      : { maxAzs: LESION_PIPELINE_DEFAULTS.azCount }),
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

  const cluster = new ecs.Cluster(scope, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
  });
  const asg = new autoscaling.AutoScalingGroup(scope, 'GpuAutoScalingGroup', {
    vpc,
    vpcSubnets: workloadSubnets,
    instanceType: props.gpuInstanceType,
    machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
    minCapacity: 0,
    maxCapacity: maxInstances,
    requireImdsv2: true,
    associatePublicIpAddress: false,
    blockDevices: [
      {
        deviceName: '/dev/xvda',
        volume: autoscaling.BlockDeviceVolume.ebs(props.gpuRootVolumeGiB, {
          encrypted: true,
          volumeType: autoscaling.EbsDeviceVolumeType.GP3,
        }),
      },
    ],
  });
  const capacityProvider = new ecs.AsgCapacityProvider(scope, 'GpuCapacityProvider', {
    autoScalingGroup: asg,
    enableManagedScaling: true,
    enableManagedTerminationProtection: true,
    targetCapacityPercent: 100,
  });
  cluster.addAsgCapacityProvider(capacityProvider);

  const logGroup = new logs.LogGroup(scope, 'GpuWorkerLogGroup', {
    retention: logRetention,
    removalPolicy: logsRemovalPolicy,
  });
  const taskRole = new iam.Role(scope, 'GpuTaskRole', {
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    description: 'lesion-mtl GPU worker: read uploads, write results, consume the queue, put events',
  });
  grantPipelineAccess(taskRole, deps.data, deps.eventBus);
  deps.queue.grantConsumeMessages(taskRole);

  const taskDefinition = new ecs.Ec2TaskDefinition(scope, 'GpuTaskDefinition', {
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
    memoryReservationMiB: props.gpuTaskMemoryMiB,
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
      ...deps.sharedEnv,
      AWS_REGION: Stack.of(scope).region,
      [WORKER_ENV.queueUrl]: deps.queue.queueUrl,
      [WORKER_ENV.maxBatch]: String(props.gpuMaxBatch),
      [ENV.executionProvider]: 'cuda',
      [ENV.modelPath]: GPU_MODEL_PATH,
    },
  });
  const securityGroup = new ec2.SecurityGroup(scope, 'GpuTaskSecurityGroup', {
    vpc,
    description: 'lesion-mtl GPU worker tasks: no inbound, HTTPS out to AWS endpoints',
    allowAllOutbound: true,
  });
  if (natGateways === 0) {
    // Isolated subnets: everything the instances and the worker call goes through endpoints,
    // reachable on 443 from the task and instance security groups only.
    const endpointSecurityGroup = new ec2.SecurityGroup(scope, 'EndpointSecurityGroup', {
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
  const service = new ecs.Ec2Service(scope, 'GpuService', {
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
      visible: deps.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      inflight: deps.queue.metricApproximateNumberOfMessagesNotVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
    },
    period: Duration.minutes(1),
  });
  const perTask =
    props.gpuBacklogPerTask ??
    backlogPerTask(props.gpuImagesPerSecondPerTask, props.gpuBacklogDrainTime.toSeconds());
  const steps: applicationautoscaling.ScalingInterval[] = backlogSteps(maxInstances, perTask);
  const taskCount = service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: maxInstances });
  taskCount.scaleOnMetric('QueueBacklogScaling', {
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
    taskCount,
  };
}
