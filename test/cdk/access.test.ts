/** IAM across every role: prefix-limited S3 access, no deletes (cdk/pipeline/access.ts). */
import type { Template } from 'aws-cdk-lib/assertions';
import {
  actionsOf,
  allStatements,
  constructWith,
  expectedPipelineStatements,
  listOwnPrefixes,
  logicalId,
  stackWith,
  statementsOfRole,
} from './helpers.js';

describe('LesionPipeline, compute=cpu (all other props default)', () => {
  let template: Template;
  let bucketId: string;

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
    bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
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
});

describe('LesionPipeline, overridden props', () => {
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
});
