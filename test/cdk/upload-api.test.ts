/** The upload API: HTTP API, stage, routes, function, role, CORS (cdk/pipeline/upload-api.ts). */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { API_ENV, loadApiConfig } from '../../src/api/config.js';
import { ENV } from '../../src/config.js';
import { API_ROUTES, LesionPipeline } from '../../cdk/lesion-pipeline.js';
import {
  arnOf,
  constructWith,
  fastProps,
  listOwnPrefixes,
  logicalId,
  newApp,
  objectsArn,
  resourcesOf,
  stackWith,
  statementsOfRole,
} from './helpers.js';

/** The API function's environment with CloudFormation refs replaced by a bucket name. */
function apiEnvOf(template: Template, bucketName: string): Record<string, string> {
  const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) =>
    id.startsWith('PipelineApiFunction'),
  )!;
  const vars = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : bucketName]),
  );
}

describe('upload API (default: on, IAM authorization)', () => {
  let template: Template;
  let pipeline: LesionPipeline;
  let bucketId: string;
  let apiId: string;

  beforeAll(() => {
    ({ template, pipeline } = constructWith());
    bucketId = logicalId(template, 'AWS::S3::Bucket', 'PipelineBucket');
    apiId = logicalId(template, 'AWS::ApiGatewayV2::Api', 'PipelineApi');
  });

  it('HTTP API with POST /analyses, GET /analyses/{id} and GET /analyses/{id}/report, all AWS_IAM, on one Lambda integration', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.absent(),
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0); // IAM needs no authorizer resource
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    const integrationId = logicalId(template, 'AWS::ApiGatewayV2::Integration', 'PipelineApi');
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineApiFunction');
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: arnOf(fnId),
    });
    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, p]) => p);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(
      API_ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([
      'GET /analyses/{id}',
      'GET /analyses/{id}/report',
      'POST /analyses',
    ]);
    for (const route of routes) {
      expect(route).toMatchObject({
        ApiId: { Ref: apiId },
        AuthorizationType: 'AWS_IAM',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
      expect(route.AuthorizerId).toBeUndefined();
    }
    expect(pipeline.apiAuthorization).toBe('iam');
  });

  it('$default stage: auto-deployed, throttled 50 rps / burst 100, JSON access logs to a 30-day log group', () => {
    const accessLogsId = logicalId(template, 'AWS::Logs::LogGroup', 'PipelineApiAccessLogGroup');
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: arnOf(accessLogsId), Format: Match.anyValue() },
    });
    const [, stage] = resourcesOf(template, 'AWS::ApiGatewayV2::Stage')[0]!;
    const format = JSON.parse((stage.AccessLogSettings as { Format: string }).Format) as Record<
      string,
      string
    >;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      principal: '$context.identity.userArn',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
    expect(Object.values(format).join(' ')).not.toMatch(/body|querystring/i);
  });

  it('API function: nodejs22.x, 256 MB, the env src/api/config.ts reads, no model or layers', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('upload API'),
      Runtime: 'nodejs22.x',
      Architectures: ['x86_64'],
      MemorySize: 256,
      Timeout: 10,
      Layers: Match.absent(),
      Environment: {
        Variables: {
          LESION_UPLOAD_BUCKET: { Ref: bucketId },
          LESION_RESULTS_BUCKET: { Ref: bucketId },
          LESION_UPLOADS_PREFIX: 'uploads/',
          LESION_RESULTS_PREFIX: 'results/',
          LESION_MAX_BYTES: String(40 * 1024 * 1024),
          LESION_API_UPLOAD_URL_TTL_SECONDS: '900',
          LESION_API_DOWNLOAD_URL_TTL_SECONDS: '300',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('the environment is exactly the contract of loadApiConfig (names from src/, values parse)', () => {
    const env = apiEnvOf(template, 'lesion-data');
    const read = new Set<string>([
      ...Object.values(API_ENV),
      ENV.uploadsPrefix,
      ENV.resultsPrefix,
      ENV.resultsBucket,
      ENV.maxBytes,
    ]);
    for (const name of Object.keys(env)) {
      if (name === 'LOG_LEVEL' || name === 'NODE_OPTIONS') continue; // Powertools / Node
      expect(read).toContain(name);
    }
    expect(loadApiConfig(env)).toEqual({
      uploadBucket: 'lesion-data',
      resultsBucket: 'lesion-data',
      uploadsPrefix: 'uploads/',
      resultsPrefix: 'results/',
      maxBytes: 40 * 1024 * 1024,
      uploadUrlTtlSeconds: 900,
      downloadUrlTtlSeconds: 300,
    });
  });

  it('API role: exactly presign uploads/*, read results/*, read upload owners, list those prefixes, write its log group', () => {
    const roleId = logicalId(template, 'AWS::IAM::Role', 'PipelineApiFunctionRole');
    const logGroupId = logicalId(template, 'AWS::Logs::LogGroup', 'PipelineApiFunctionLogGroup');
    expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    expect(statementsOfRole(template, roleId)).toEqual([
      {
        Sid: 'PresignUploads',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: objectsArn(bucketId, 'uploads/*'),
      },
      {
        Sid: 'ReadResults',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucketId, 'results/*'),
      },
      {
        Sid: 'ReadUploadOwner',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucketId, 'uploads/*'),
      },
      listOwnPrefixes(bucketId),
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(logGroupId) },
    ]);
  });

  it('API Gateway may invoke the function for the three route paths only', () => {
    const fnId = logicalId(template, 'AWS::Lambda::Function', 'PipelineApiFunction');
    const permissions = resourcesOf(template, 'AWS::Lambda::Permission').filter(
      ([, p]) => JSON.stringify(p.FunctionName) === JSON.stringify(arnOf(fnId)),
    );
    expect(
      permissions
        .map(([, p]) => (p.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1))
        .sort(),
    ).toEqual(['/*/*/analyses', '/*/*/analyses/{id}', '/*/*/analyses/{id}/report']);
    for (const [, p] of permissions) expect(p.Principal).toBe('apigateway.amazonaws.com');
  });

  it('no CORS rule on the bucket unless corsOrigins is given', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: Match.anyValue(),
      CorsConfiguration: Match.absent(),
    });
  });

  it('grantApiInvoke gives execute-api:Invoke on exactly the two routes', () => {
    const fresh = new Stack(newApp(), 'GrantStack');
    const freshPipeline = new LesionPipeline(fresh, 'Pipeline', fastProps());
    const caller = new iam.Role(fresh, 'Backend', { assumedBy: new iam.AccountRootPrincipal() });
    freshPipeline.grantApiInvoke(caller);
    const t = Template.fromStack(fresh);
    const statements = statementsOfRole(t, logicalId(t, 'AWS::IAM::Role', 'Backend'));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
    const suffixes = (statements[0]!.Resource as Array<{ 'Fn::Join': [string, unknown[]] }>).map((r) =>
      r['Fn::Join'][1].at(-1),
    );
    // the stage is `*` ($default), the path parameter becomes `*` in the IAM resource
    expect(suffixes.sort()).toEqual(['/*/GET/analyses/*', '/*/POST/analyses']);
  });
});

describe('upload API, overridden props', () => {
  const jwtApi = {
    authorization: 'jwt' as const,
    jwtIssuer: 'https://idp.example.org/realms/tele',
    jwtAudience: ['lesion-api', 'tele-backend'],
  };

  it("authorization 'jwt': one JWT authorizer (issuer, audiences, Authorization header) on every route", () => {
    const { template, pipeline } = constructWith({ api: jwtApi });
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    const authorizerId = logicalId(template, 'AWS::ApiGatewayV2::Authorizer', 'PipelineApi');
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: jwtApi.jwtIssuer, Audience: jwtApi.jwtAudience },
    });
    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route');
    expect(routes).toHaveLength(3);
    for (const [, route] of routes) {
      expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }
    const [, stage] = resourcesOf(template, 'AWS::ApiGatewayV2::Stage')[0]!;
    expect((stage.AccessLogSettings as { Format: string }).Format).toContain(
      '$context.authorizer.claims.sub',
    );
    expect(() => pipeline.grantApiInvoke(new iam.AccountRootPrincipal())).toThrow(
      "grantApiInvoke needs the upload API with api.authorization 'iam'",
    );
  });

  it('corsOrigins: a bucket CORS rule for the presigned PUT and CORS preflight on the API', () => {
    const origins = ['https://app.example.org', 'http://localhost:5173'];
    const { template } = constructWith({ api: { ...jwtApi, corsOrigins: origins } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          {
            Id: 'presigned-upload-put',
            AllowedMethods: ['PUT'],
            AllowedOrigins: origins,
            AllowedHeaders: ['content-type', 'x-amz-meta-owner'],
            MaxAge: 3000,
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: origins,
        AllowMethods: ['GET', 'POST'],
        AllowHeaders: ['authorization', 'content-type'],
        ExposeHeaders: ['location', 'retry-after'],
        MaxAge: 600,
      },
    });
  });

  it('throttle, TTLs, maxBytes and tracing are wired through', () => {
    const { template } = constructWith({
      maxBytes: 10 * 1024 * 1024,
      tracing: true,
      api: {
        throttle: { rateLimit: 5, burstLimit: 10 },
        uploadUrlTtl: Duration.minutes(5),
        downloadUrlTtl: Duration.minutes(1),
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
    const env = apiEnvOf(template, 'b');
    expect(loadApiConfig(env)).toMatchObject({
      maxBytes: 10 * 1024 * 1024,
      uploadUrlTtlSeconds: 300,
      downloadUrlTtlSeconds: 60,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('upload API'),
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('api: false leaves out the API, its function, role, log groups and output', () => {
    const { template, stack } = stackWith({ api: false });
    for (const type of [
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Stage',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Integration',
    ]) {
      template.resourceCountIs(type, 0);
    }
    expect(resourcesOf(template, 'AWS::IAM::Role').filter(([id]) => id.startsWith('PipelineApi'))).toEqual(
      [],
    );
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('ApiUrl');
    expect(stack.pipeline.apiUrl).toBeUndefined();
    expect(() => stack.pipeline.grantApiInvoke(new iam.AccountRootPrincipal())).toThrow(
      /needs the upload API/,
    );
  });

  it('the stack outputs the API URL and its log groups', () => {
    const { template } = stackWith();
    const apiId = logicalId(template, 'AWS::ApiGatewayV2::Api', 'PipelineApi');
    template.hasOutput('ApiUrl', {
      Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] },
      Description: Match.stringLikeRegexp('IAM'),
    });
    template.hasOutput('ApiFunctionLogGroupName', {});
    template.hasOutput('ApiAccessLogGroupName', {});
  });
});
