/** LesionPipeline as a whole: public fields, stack outputs, settings shared by every concern. */
import type { Template } from 'aws-cdk-lib/assertions';
import { constructWith, logicalId, stackWith } from './helpers.js';

describe('LesionPipeline, compute=cpu (all other props default)', () => {
  let template: Template;
  let bucketId: string;
  let queueId: string;
  let dlqId: string;
  let busId: string;

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
    bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
    dlqId = logicalId(template, 'AWS::SQS::Queue', 'PipelineDeadLetterQueue');
    busId = logicalId(template, 'AWS::Events::EventBus', 'PipelineEventBus');
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
});

describe('LesionPipeline, overridden props', () => {
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
