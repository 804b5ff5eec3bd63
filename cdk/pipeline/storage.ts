/** The data bucket (uploads + results), its access-log bucket, the upload queue, its DLQ and the S3 → SQS notification. */
import { Duration, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ResolvedLesionPipelineProps } from './props.js';

export interface StorageResources {
  /** Uploads (uploadsPrefix) and results (resultsPrefix) in one bucket. */
  readonly bucket: s3.Bucket;
  /** Server access logs of `bucket`. */
  readonly accessLogsBucket: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/** Creates the buckets and queues in `scope` (ids AccessLogsBucket, Bucket, DeadLetterQueue, Queue). */
export function createStorage(scope: Construct, props: ResolvedLesionPipelineProps): StorageResources {
  const accessLogsBucket = new s3.Bucket(scope, 'AccessLogsBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED, // log delivery does not support SSE-KMS
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    lifecycleRules: [{ id: 'expire-access-logs', expiration: props.accessLogsExpiration }],
    removalPolicy: props.removalPolicy,
  });
  Validations.of(accessLogsBucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This bucket is the server-access-log destination; logging it into itself would loop.',
  });

  const bucket = new s3.Bucket(scope, 'Bucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    serverAccessLogsBucket: accessLogsBucket,
    serverAccessLogsPrefix: 'lesion-bucket/',
    lifecycleRules: [
      { id: 'expire-results', prefix: props.resultsPrefix, expiration: props.resultsExpiration },
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: props.noncurrentVersionExpiration,
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
      { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
    ],
    removalPolicy: props.removalPolicy,
  });

  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const queue = new sqs.Queue(scope, 'Queue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED, // SSE-SQS: S3 can send without a KMS key policy
    enforceSSL: true,
    visibilityTimeout: props.visibilityTimeout,
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
  });
  // Recursion guard: only keys under uploadsPrefix notify; results go under a disjoint prefix.
  bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(queue), {
    prefix: props.uploadsPrefix,
  });
  return { bucket, accessLogsBucket, queue, deadLetterQueue };
}
