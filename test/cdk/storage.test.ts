/** The data bucket, the access-log bucket, the queue + DLQ and the S3 → SQS notification (cdk/pipeline/storage.ts). */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { Template } from 'aws-cdk-lib/assertions';
import {
  actionsOf,
  allStatements,
  arnOf,
  constructWith,
  listOwnPrefixes,
  logicalId,
  objectsArn,
  resourcesOf,
  stackWith,
} from './helpers.js';

describe('LesionPipeline, compute=cpu (all other props default)', () => {
  let template: Template;
  let bucketId: string;
  let logsBucketId: string;
  let queueId: string;
  let dlqId: string;

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
    bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    logsBucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineAccessLogsBucket');
    queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
    dlqId = logicalId(template, 'AWS::SQS::Queue', 'PipelineDeadLetterQueue');
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
});

describe('LesionPipeline, overridden props', () => {
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
});
