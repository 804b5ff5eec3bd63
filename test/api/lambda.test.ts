import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { API_ENV, loadApiConfig } from '../../src/api/config.js';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../src/api/lambda.js';
import { ConfigError } from '../../src/errors.js';

/** A minimal HTTP API (payload 2.0) event. */
function event(o: {
  method: string;
  rawPath: string;
  stage?: string;
  body?: string;
  base64?: boolean;
  headers?: Record<string, string>;
  authorizer?: Record<string, unknown>;
}) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: o.rawPath,
    rawQueryString: '',
    headers: o.headers ?? {},
    requestContext: {
      stage: o.stage ?? '$default',
      ...(o.authorizer ? { authorizer: o.authorizer } : {}),
      http: {
        method: o.method,
        path: o.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.1',
        userAgent: 'test',
      },
    },
    body: o.body,
    isBase64Encoded: o.base64 ?? false,
  } as unknown as APIGatewayProxyEventV2;
}

const context = {
  functionName: 'lesion-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:lesion-api',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/lesion-api',
  logStreamName: '2026/11/26/[$LATEST]abc',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

describe('API Gateway adapter', () => {
  it('maps method, path, lower-cased headers and a base64 body', () => {
    // Act
    const req = fromApiGatewayEvent(
      event({
        method: 'POST',
        rawPath: '/analyses',
        headers: { 'Content-Type': 'application/json' },
        body: Buffer.from('{"a":1}').toString('base64'),
        base64: true,
      }),
    );

    // Assess
    expect(req).toEqual({
      method: 'POST',
      path: '/analyses',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      caller: null,
    });
  });

  it.each([
    [
      'an IAM user',
      { iam: { userArn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012' } },
      'iam:arn:aws:iam::123456789012:user/alice',
    ],
    [
      'an assumed-role session (as its role)',
      { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/app/i-0abc123' } },
      'iam:arn:aws:sts::123456789012:assumed-role/app',
    ],
    [
      'a JWT subject (with its issuer)',
      { jwt: { claims: { sub: 'u-42', iss: 'https://idp.example.org', aud: 'x' }, scopes: null } },
      'jwt:https://idp.example.org u-42',
    ],
    ['a JWT without a subject (no caller)', { jwt: { claims: { iss: 'https://idp.example.org' } } }, null],
  ])('takes the caller of %s from the authoriser context', (_name, authorizer, caller) => {
    const req = fromApiGatewayEvent(event({ method: 'GET', rawPath: '/analyses/x', authorizer }));
    expect(req.caller).toBe(caller);
  });

  it('never takes the caller from a client header', () => {
    const req = fromApiGatewayEvent(
      event({ method: 'GET', rawPath: '/analyses/x', headers: { 'x-amz-meta-owner': 'a', caller: 'b' } }),
    );
    expect(req.caller).toBeNull();
  });

  it.each([
    ['prod', '/prod/analyses/x', '/analyses/x'],
    ['prod', '/prod', '/'],
    ['prod', '/production/analyses', '/production/analyses'],
    ['$default', '/analyses', '/analyses'],
  ])('strips the stage %s from %s', (stage, rawPath, path) => {
    expect(fromApiGatewayEvent(event({ method: 'GET', rawPath, stage })).path).toBe(path);
  });

  it('maps a response to a structured result', () => {
    expect(toApiGatewayResult({ statusCode: 404, headers: { a: 'b' }, body: '{}' })).toEqual({
      statusCode: 404,
      headers: { a: 'b' },
      body: '{}',
      isBase64Encoded: false,
    });
  });
});

describe('loadApiConfig', () => {
  it('takes the pipeline variables and the upload bucket, naming a bad variable', () => {
    // Act
    const config = loadApiConfig({
      [API_ENV.uploadBucket]: 'up',
      LESION_RESULTS_BUCKET: 'res',
      LESION_MAX_BYTES: '1000',
    });

    // Assess
    expect(config).toMatchObject({
      uploadBucket: 'up',
      resultsBucket: 'res',
      maxBytes: 1000,
      uploadUrlTtlSeconds: 900,
      downloadUrlTtlSeconds: 300,
    });
    expect(() => loadApiConfig({})).toThrow(
      new ConfigError(`${API_ENV.uploadBucket} is not set: the bucket uploads are presigned for`),
    );
    expect(() =>
      loadApiConfig({ [API_ENV.uploadBucket]: 'up', [API_ENV.downloadUrlTtlSeconds]: '0' }),
    ).toThrow(API_ENV.downloadUrlTtlSeconds);
  });
});

describe('functions/api/handler', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('answers POST /analyses through middy with a presigned S3 URL for the configured bucket', async () => {
    // Prepare: presigning needs credentials and a region, not the network
    Object.assign(process.env, {
      [API_ENV.uploadBucket]: 'lesion-uploads-test',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const { handler } = await import('../../functions/api/handler.js');

    // Act
    const res = await handler(
      event({
        method: 'POST',
        rawPath: '/analyses',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contentType: 'image/jpeg', contentLength: 1234 }),
        authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/alice' } },
      }),
      context,
    );

    // Assess
    expect(res.statusCode).toBe(201);
    const body = JSON.parse(res.body!) as { id: string; upload: { url: string } };
    const url = new URL(body.upload.url);
    expect(url.hostname).toBe('lesion-uploads-test.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe(`/uploads/${body.id}.jpg`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe(
      'content-length;content-type;host;x-amz-meta-owner',
    );
    expect(url.searchParams.has('x-amz-meta-owner')).toBe(false); // a signed header, not hoisted
  });
});
