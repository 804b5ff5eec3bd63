/**
 * IAM access to the bucket by prefix (shared by the analyze function, the GPU worker and the API)
 * and the cdk-nag acknowledgements that go with it.
 */
import { Names, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AWS_CUSTOM_RESOURCE_SINGLETON_ID } from './constants.js';

/** The bucket and the two prefixes every role is limited to. */
export interface BucketPrefixes {
  readonly bucket: s3.Bucket;
  readonly uploadsPrefix: string;
  readonly resultsPrefix: string;
}

/**
 * Least privilege shared by the Lambda role and the ECS task role: GetObject on uploads, PutObject
 * on results, read-back of results (idempotency), a prefix-limited ListBucket, PutEvents on the
 * bus. (Queue consumption is granted by the event source / `grantConsumeMessages`.)
 */
export function grantPipelineAccess(role: iam.IRole, data: BucketPrefixes, eventBus: events.IEventBus): void {
  role.addToPrincipalPolicy(prefixStatement(data.bucket, 'ReadUploads', 's3:GetObject', data.uploadsPrefix));
  role.addToPrincipalPolicy(prefixStatement(data.bucket, 'WriteResults', 's3:PutObject', data.resultsPrefix));
  // src/service/process-uploads.ts and src/results/answer.ts HEAD/GET result.json, error.json and
  // the event.json marker under results/<image id>/ before analysing a redelivered upload (exactly once).
  role.addToPrincipalPolicy(prefixStatement(data.bucket, 'ReadResults', 's3:GetObject', data.resultsPrefix));
  role.addToPrincipalPolicy(listOwnPrefixesStatement(data));
  eventBus.grantPutEventsTo(role);
  Validations.of(role).acknowledge(
    {
      id: objectsFinding(data.bucket, data.uploadsPrefix),
      reason: 'Reads any upload key, and only under the uploads prefix.',
    },
    {
      id: objectsFinding(data.bucket, data.resultsPrefix),
      reason: 'Writes and reads back result keys (idempotency checks), only under the results prefix.',
    },
  );
}

/** One S3 object action on every key under one prefix of the bucket (no wildcard beyond it). */
export function prefixStatement(
  bucket: s3.IBucket,
  sid: string,
  action: string,
  prefix: string,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: [action],
    resources: [bucket.arnForObjects(`${prefix}*`)],
  });
}

/**
 * s3:ListBucket limited to the two prefixes. Without ListBucket S3 answers a HEAD/GET of a
 * missing key with 403 instead of 404, so "no result yet" would look like a failure; with it the
 * role can still list nothing outside uploads/ and results/.
 */
export function listOwnPrefixesStatement(data: BucketPrefixes): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ListOwnPrefixes',
    actions: ['s3:ListBucket'],
    resources: [data.bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${data.uploadsPrefix}*`, `${data.resultsPrefix}*`] } },
  });
}

/** The cdk-nag IAM5 finding id of `<bucket>/<prefix>*`. */
export function objectsFinding(bucket: s3.Bucket, prefix: string): string {
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  return `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`;
}

/**
 * CDK creates stack-level singleton Lambdas for the S3 notification configuration and the
 * events log-group resource policy; acknowledge their nag findings with reasons.
 */
export function acknowledgeCdkSingletons(scope: Construct, eventsRule: events.Rule): void {
  const basicExecution =
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
  const ruleId = Names.nodeUniqueId(eventsRule.node);
  for (const child of Stack.of(scope).node.children) {
    if (child.node.id.startsWith('BucketNotificationsHandler')) {
      Validations.of(child).acknowledge({
        id: basicExecution,
        reason:
          'CDK-managed singleton that applies the bucket notification configuration at deploy time only.',
      });
    } else if (child.node.id === AWS_CUSTOM_RESOURCE_SINGLETON_ID) {
      Validations.of(child).acknowledge({
        id: basicExecution,
        reason:
          'CDK-managed AwsCustomResource singleton (events log-group resource policy), deploy time only.',
      });
    } else if (child.node.id === `EventsLogGroupPolicy${ruleId}`) {
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'logs:PutResourcePolicy / DeleteResourcePolicy act on the account-level policy and take no ARN.',
      });
    }
  }
}
