/**
 * The upload API: HTTP API ($default stage, throttled, access-logged) with an IAM or JWT
 * authorizer on both routes → one Lambda (functions/api/handler.ts) that presigns uploads and
 * reads results. Its role can PutObject only under uploads/ (the presigned PUT is signed with
 * it), GetObject only under results/, and list only those two prefixes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaNodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { listOwnPrefixesStatement, objectsFinding, prefixStatement } from './access.js';
import type { BucketPrefixes } from './access.js';
import { API_ENV } from '../../src/api/config.js';
import { ENV } from '../../src/config.js';
import { esmBundling } from './bundling.js';
import { API_ROUTES, ApiAuthorization, REPO_ROOT } from './constants.js';
import { LESION_PIPELINE_DEFAULTS } from './defaults.js';
import type { ResolvedApiProps, ResolvedLesionPipelineProps } from './props.js';

export interface UploadApiResources {
  readonly httpApi: apigwv2.HttpApi;
  /** The `$default` stage (throttling, access logs). */
  readonly stage: apigwv2.HttpStage;
  /** `POST /analyses`, `GET /analyses/{id}` and `GET /analyses/{id}/report`, in API_ROUTES order. */
  readonly routes: apigwv2.HttpRoute[];
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly accessLogGroup: logs.LogGroup;
  readonly authorization: ApiAuthorization;
}

/**
 * Creates the API in `scope` (ids ApiFunctionRole, ApiFunctionLogGroup, ApiFunction, Api,
 * ApiAccessLogGroup, ApiStage) and, with corsOrigins, a CORS rule on the bucket.
 */
export function createUploadApi(
  scope: Construct,
  props: ResolvedLesionPipelineProps,
  api: ResolvedApiProps,
  data: BucketPrefixes,
): UploadApiResources {
  const d = LESION_PIPELINE_DEFAULTS;
  const { authorization } = api;
  const { bucket, uploadsPrefix, resultsPrefix } = data;
  const role = new iam.Role(scope, 'ApiFunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'lesion-mtl upload API: presign uploads, read results',
  });
  role.addToPrincipalPolicy(prefixStatement(bucket, 'PresignUploads', 's3:PutObject', uploadsPrefix));
  role.addToPrincipalPolicy(prefixStatement(bucket, 'ReadResults', 's3:GetObject', resultsPrefix));
  // HeadObject of an upload reads the owner bound into its presigned PUT (x-amz-meta-owner):
  // an analysis answers only the caller who created it (docs/security.md, Access)
  role.addToPrincipalPolicy(prefixStatement(bucket, 'ReadUploadOwner', 's3:GetObject', uploadsPrefix));
  role.addToPrincipalPolicy(listOwnPrefixesStatement(data));
  const logGroup = new logs.LogGroup(scope, 'ApiFunctionLogGroup', {
    retention: props.logRetention,
    removalPolicy: props.logsRemovalPolicy,
  });
  logGroup.grantWrite(role);

  const common = {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.X86_64,
    memorySize: d.api.memorySize,
    timeout: d.api.timeout,
    role,
    logGroup,
    tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    description: 'lesion-mtl upload API: POST /analyses, GET /analyses/{id} (presigned S3 URLs)',
    // The names src/api/config.ts (loadApiConfig) and src/config.ts read; docs/integration.md §1.
    environment: {
      [API_ENV.uploadBucket]: bucket.bucketName,
      [ENV.resultsBucket]: bucket.bucketName,
      [ENV.uploadsPrefix]: uploadsPrefix,
      [ENV.resultsPrefix]: resultsPrefix,
      [ENV.maxBytes]: String(props.maxBytes),
      [API_ENV.uploadUrlTtlSeconds]: String(api.uploadUrlTtl.toSeconds()),
      [API_ENV.downloadUrlTtlSeconds]: String(api.downloadUrlTtl.toSeconds()),
      LOG_LEVEL: props.logLevel,
      NODE_OPTIONS: '--enable-source-maps',
    },
  };
  let fn: lambda.Function;
  if (props.apiFunctionCode) {
    fn = new lambda.Function(scope, 'ApiFunction', {
      ...common,
      code: props.apiFunctionCode,
      handler: 'index.handler',
    });
  } else {
    const entry = props.apiHandlerEntry ?? path.join(REPO_ROOT, 'functions', 'api', 'handler.ts');
    if (!fs.existsSync(entry)) {
      throw new Error(`API handler entry ${entry} not found (expected functions/api/handler.ts)`);
    }
    fn = new lambdaNodejs.NodejsFunction(scope, 'ApiFunction', {
      ...common,
      entry,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: esmBundling([]), // no native modules: everything, the AWS SDK included, is bundled
    });
  }

  const authorizer =
    authorization === ApiAuthorization.JWT
      ? new HttpJwtAuthorizer('JwtAuthorizer', api.jwtIssuer!, {
          authorizerName: 'lesion-jwt',
          jwtAudience: [...api.jwtAudience!],
        })
      : new HttpIamAuthorizer();
  const corsOrigins = api.corsOrigins ? [...api.corsOrigins] : undefined;
  const httpApi = new apigwv2.HttpApi(scope, 'Api', {
    apiName: `${Stack.of(scope).stackName}-upload-api`,
    description: 'lesion-mtl upload API: POST /analyses, GET /analyses/{id} (docs/integration.md)',
    createDefaultStage: false, // the stage below carries throttling and access logs
    defaultAuthorizer: authorizer,
    ...(corsOrigins
      ? {
          corsPreflight: {
            allowOrigins: corsOrigins,
            allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
            allowHeaders: [
              'authorization',
              'content-type',
              ...(authorization === ApiAuthorization.IAM
                ? ['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']
                : []),
            ],
            exposeHeaders: ['location', 'retry-after'],
            maxAge: Duration.minutes(10),
          },
        }
      : {}),
  });
  const accessLogGroup = new logs.LogGroup(scope, 'ApiAccessLogGroup', {
    retention: props.logRetention,
    removalPolicy: props.logsRemovalPolicy,
  });
  const throttle = api.throttle;
  const stage = new apigwv2.HttpStage(scope, 'ApiStage', {
    httpApi,
    stageName: '$default',
    autoDeploy: true,
    throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogGroup),
      // One JSON line per request: who, which route, outcome. No bodies, no query strings.
      format: AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          requestTime: '$context.requestTime',
          sourceIp: '$context.identity.sourceIp',
          principal:
            authorization === ApiAuthorization.JWT
              ? '$context.authorizer.claims.sub'
              : '$context.identity.userArn',
          method: '$context.httpMethod',
          routeKey: '$context.routeKey',
          path: '$context.path',
          status: '$context.status',
          protocol: '$context.protocol',
          responseLength: '$context.responseLength',
          responseLatencyMs: '$context.responseLatency',
          integrationStatus: '$context.integrationStatus',
          integrationLatencyMs: '$context.integrationLatency',
          error: '$context.error.message',
          authorizerError: '$context.authorizer.error',
        }),
      ),
    },
  });
  const integration = new HttpLambdaIntegration('ApiIntegration', fn);
  const routes = API_ROUTES.map(
    (r) =>
      httpApi.addRoutes({
        path: r.path,
        methods: [r.method === 'POST' ? apigwv2.HttpMethod.POST : apigwv2.HttpMethod.GET],
        integration,
      })[0]!,
  );

  if (corsOrigins) {
    // A browser PUTs the image straight to S3 with the presigned URL.
    bucket.addCorsRule({
      id: 'presigned-upload-put',
      allowedMethods: [s3.HttpMethods.PUT],
      allowedOrigins: corsOrigins,
      allowedHeaders: ['content-type', 'x-amz-meta-owner'], // both signed into the presigned PUT
      maxAge: 3000,
    });
  }

  Validations.of(role).acknowledge(
    {
      id: objectsFinding(bucket, uploadsPrefix),
      reason: 'Presigns PUTs for new upload keys (uploads/<uuid>.<ext>), only under the uploads prefix.',
    },
    {
      id: objectsFinding(bucket, resultsPrefix),
      reason: 'Reads result.json / error.json and presigns result GETs, only under the results prefix.',
    },
    ...(props.tracing
      ? [
          {
            id: 'AwsSolutions-IAM5[Resource::*]',
            reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
          },
        ]
      : []),
  );
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'Pinned to nodejs22.x on purpose: the project standard (middy 6, Powertools) is Node 22.',
  });
  return { httpApi, stage, routes, fn, role, logGroup, accessLogGroup, authorization };
}

/** `execute-api:Invoke` on every route for `grantee` (IAM authorization only). */
export function grantApiInvoke(
  api: { readonly routes?: readonly apigwv2.HttpRoute[]; readonly authorization?: ApiAuthorization },
  grantee: iam.IGrantable,
): iam.Grant[] {
  if (!api.routes || api.authorization !== ApiAuthorization.IAM) {
    throw new Error("grantApiInvoke needs the upload API with api.authorization 'iam'");
  }
  return api.routes.map((route) => route.grantInvoke(grantee));
}
