// The Lambda entry itself (functions/analyze/handler.ts: middy, Powertools, the model loaded at
// init), invoked with a real SQSEvent against s3rver on 127.0.0.1 — the AWS SDK finds it through
// AWS_ENDPOINT_URL_S3, the way the function finds S3 in AWS through its environment.
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';
import type { AnalysisResult, ErrorResult } from '../../src/results/result.js';
import { resultKeys } from '../../src/results/keys.js';
import { fixtures, readSamples } from '../helpers/images.js';
import { requireTestModel } from '../helpers/model.js';
import { getJson } from '../helpers/s3.js';
import { s3NotificationBody, sqsEvent, sqsRecord } from '../helpers/sqs.js';

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let s3: LocalS3;
let handler: Handler;
const previous: Record<string, string | undefined> = {};

const context = {
  functionName: 'lesion-analyze',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

function lambdaEnv(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    LESION_MODEL_PATH: requireTestModel(),
    LESION_EXECUTION_PROVIDER: 'cpu',
    LESION_INTRA_OP_THREADS: '1',
    LESION_MAX_RECEIVE_COUNT: '3',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
}

beforeAll(async () => {
  s3 = await startLocalS3({ bucket: 'lesion-uploads' });
  // the variables the CDK stack sets, pointed at the local server; logs and metrics silenced
  const env = lambdaEnv();
  for (const k of Object.keys(env)) previous[k] = process.env[k];
  Object.assign(process.env, env);
  ({ handler } = (await import('../../functions/analyze/handler.js')) as { handler: Handler });
}, 60_000);

afterAll(async () => {
  await s3.stop();
  // the jest worker runs other test files next: put the environment back as it was
  for (const [k, v] of Object.entries(previous)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

it('analyses an uploaded image, answers a non-image with error.json, and reports no batch failures', async () => {
  // Arrange
  const sample = (await readSamples())[0]!.bytes;
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'uploads/a b.jpg', Body: sample }));
  await s3.client.send(
    new PutObjectCommand({ Bucket: s3.bucket, Key: 'uploads/notes.jpg', Body: fixtures.text() }),
  );
  const event = sqsEvent([
    sqsRecord(s3NotificationBody(s3.bucket, 'uploads/a b.jpg')),
    sqsRecord(s3NotificationBody(s3.bucket, 'uploads/notes.jpg')),
  ]);

  // Act
  const response = await handler(event, context);

  // Assert
  expect(response).toEqual({ batchItemFailures: [] });
  const ok = await getJson<AnalysisResult>(
    s3.client,
    s3.bucket,
    resultKeys(`a_b.jpg~${idHash('uploads/a b.jpg')}`, 'results/').result,
  );
  expect(ok).toMatchObject({ status: 'ok', image: { key: 'uploads/a b.jpg' } });
  const bad = await getJson<ErrorResult>(s3.client, s3.bucket, resultKeys('notes.jpg', 'results/').error);
  expect(bad.error).toMatchObject({ code: 'UNSUPPORTED_FORMAT', retryable: false });
});

function idHash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 10);
}
