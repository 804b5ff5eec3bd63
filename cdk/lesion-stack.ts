import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LesionPipeline } from './lesion-pipeline.js';
import type { LesionPipelineProps } from './lesion-pipeline.js';

export interface LesionStackProps extends StackProps {
  /** Passed through to the LesionPipeline construct. @default {} (all construct defaults) */
  readonly pipeline?: LesionPipelineProps;
}

/**
 * The deployable unit: one LesionPipeline plus the outputs a user needs to try it
 * (bucket, queues, bus, API URL, an example upload command).
 *
 * @example
 * new LesionStack(app, 'LesionMtl', { pipeline: { compute: 'gpu' } });
 */
export class LesionStack extends Stack {
  public readonly pipeline: LesionPipeline;
  private readonly explicitAzs?: readonly string[];

  constructor(scope: Construct, id: string, props: LesionStackProps = {}) {
    super(scope, id, {
      description:
        'lesion-mtl: serverless skin-lesion segmentation + classification (upload API → S3 → SQS → Lambda / ECS GPU)',
      ...props,
    });
    this.explicitAzs = props.pipeline?.availabilityZones;
    const pipeline = new LesionPipeline(this, 'Pipeline', props.pipeline ?? {});
    this.pipeline = pipeline;

    const bucket = pipeline.bucket.bucketName;
    new CfnOutput(this, 'BucketName', { value: bucket, description: 'Uploads and results bucket' });
    new CfnOutput(this, 'AccessLogsBucketName', {
      value: pipeline.accessLogsBucket.bucketName,
      description: 'Server access logs of the bucket',
    });
    new CfnOutput(this, 'QueueUrl', {
      value: pipeline.queue.queueUrl,
      description: 'Upload notification queue',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: pipeline.deadLetterQueue.queueUrl,
      description: 'Uploads that failed maxReceiveCount times',
    });
    new CfnOutput(this, 'EventBusName', {
      value: pipeline.eventBus.eventBusName,
      description: 'Custom bus receiving LesionAnalysisCompleted / LesionAnalysisFailed',
    });
    new CfnOutput(this, 'EventsLogGroupName', {
      value: pipeline.eventsLogGroup.logGroupName,
      description: 'Where the example rule writes analysis events',
    });
    new CfnOutput(this, 'UploadCommand', {
      value: Fn.join('', ['aws s3 cp ./lesion.jpg s3://', bucket, `/${pipeline.uploadsPrefix}lesion.jpg`]),
      description: 'Example: upload an image to analyze',
    });
    new CfnOutput(this, 'ResultsCommand', {
      value: Fn.join('', ['aws s3 ls --recursive s3://', bucket, `/${pipeline.resultsPrefix}`]),
      description: 'Example: list the results written so far',
    });
    if (pipeline.analyzeFunction) {
      new CfnOutput(this, 'FunctionName', { value: pipeline.analyzeFunction.functionName });
    }
    if (pipeline.functionLogGroup) {
      new CfnOutput(this, 'FunctionLogGroupName', { value: pipeline.functionLogGroup.logGroupName });
    }
    if (pipeline.gpuLogGroup) {
      new CfnOutput(this, 'GpuWorkerLogGroupName', { value: pipeline.gpuLogGroup.logGroupName });
    }
    if (pipeline.apiUrl) {
      new CfnOutput(this, 'ApiUrl', {
        value: pipeline.apiUrl,
        description: `Upload API base URL (POST /analyses, GET /analyses/{id}); ${
          pipeline.apiAuthorization === 'jwt' ? 'JWT bearer tokens' : 'IAM (SigV4, execute-api:Invoke)'
        }`,
      });
    }
    if (pipeline.apiFunctionLogGroup && pipeline.apiAccessLogGroup) {
      new CfnOutput(this, 'ApiFunctionLogGroupName', { value: pipeline.apiFunctionLogGroup.logGroupName });
      new CfnOutput(this, 'ApiAccessLogGroupName', { value: pipeline.apiAccessLogGroup.logGroupName });
    }
    if (pipeline.cluster && pipeline.gpuService) {
      new CfnOutput(this, 'ClusterName', { value: pipeline.cluster.clusterName });
      new CfnOutput(this, 'GpuServiceName', { value: pipeline.gpuService.serviceName });
    }
  }

  /**
   * With an explicit `env`, the VPC would look up the region's AZs (a context lookup that needs
   * credentials). Answer with the AZs given to the pipeline instead, so synth stays offline.
   */
  override get availabilityZones(): string[] {
    return this.explicitAzs ? [...this.explicitAzs] : super.availabilityZones;
  }
}
