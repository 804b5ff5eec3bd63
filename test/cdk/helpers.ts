import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { LESION_PIPELINE_DEFAULTS, LesionPipeline, REPO_ROOT } from '../../cdk/lesion-pipeline.js';
import type { LesionPipelineProps } from '../../cdk/lesion-pipeline.js';
import { LesionStack } from '../../cdk/lesion-stack.js';

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_CONTEXT: Record<string, unknown> = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

const tempDirs: string[] = [];
/** A temporary folder removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh App with cdk.json's context and a throwaway output directory. */
export function newApp(): App {
  return new App({ context: CDK_CONTEXT, outdir: tempDir('lesion-cdk-') });
}

let stubDir: string | undefined;
/** A tiny asset folder standing in for the layers and the bundled handlers (no esbuild, no 60 MB copy). */
function stubAssetDir(): string {
  if (!stubDir) {
    stubDir = tempDir('lesion-stub-');
    fs.writeFileSync(
      path.join(stubDir, 'index.mjs'),
      'export const handler = async () => ({ batchItemFailures: [] });\n',
    );
  }
  return stubDir;
}

/** Props that skip bundling and heavy assets; tests override what they check. */
export function fastProps(props: LesionPipelineProps = {}): LesionPipelineProps {
  const compute = props.compute ?? LESION_PIPELINE_DEFAULTS.compute;
  const needsLambda = compute !== 'gpu' && (props.lambdaPackaging ?? 'zip') === 'zip';
  const needsGpu = compute === 'gpu' || compute === 'both';
  const needsApi = props.api !== false;
  return {
    ...(needsApi ? { apiFunctionCode: lambda.Code.fromAsset(stubAssetDir()) } : {}),
    ...(needsLambda
      ? {
          functionCode: lambda.Code.fromAsset(stubAssetDir()),
          runtimeLayerCode: lambda.Code.fromAsset(stubAssetDir()),
          modelLayerCode: lambda.Code.fromAsset(stubAssetDir()),
        }
      : {}),
    ...(needsGpu
      ? { gpuImage: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable') }
      : {}),
    ...props,
  };
}

/** A fresh app + LesionStack (outputs included) with fast props. */
export function stackWith(props: LesionPipelineProps = {}): {
  app: App;
  stack: LesionStack;
  template: Template;
} {
  const app = newApp();
  const stack = new LesionStack(app, 'TestStack', { pipeline: fastProps(props) });
  return { app, stack, template: Template.fromStack(stack) };
}

/** A bare Stack holding only the construct, to test it in isolation. */
export function constructWith(props: LesionPipelineProps = {}): {
  stack: Stack;
  pipeline: LesionPipeline;
  template: Template;
} {
  const stack = new Stack(newApp(), 'ConstructStack');
  const pipeline = new LesionPipeline(stack, 'Pipeline', fastProps(props));
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** cdk-nag AwsSolutions findings that are not acknowledged (errors and warnings). */
export function nagViolations(scope: IConstruct): PolicyViolation[] {
  return new AwsSolutionsChecks().validateScope(scope).violations;
}

/** Every `Validations.of(x).acknowledge()` entry under `scope`, with its reason. */
export function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: unknown }> {
  const out: Array<{ path: string; id: string; reason: unknown }> = [];
  for (const c of scope.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        out.push({ path: c.node.path, id, reason });
      }
    }
  }
  return out;
}

/** Resources of a type as [logicalId, Properties] pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(template.findResources(type)).map(([id, r]) => [
    id,
    ((r as { Properties?: Record<string, unknown> }).Properties ?? {}) as Record<string, unknown>,
  ]);
}

/** The single logical id of a resource type whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} starting with ${prefix}, found [${ids.join(', ')}]`);
  return ids[0] as string;
}

/** Sum of file sizes under a folder. */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

// IAM statement helpers shared by the per-concern template tests.

export type Statement = Record<string, unknown>;

export const arnOf = (id: string): unknown => ({ 'Fn::GetAtt': [id, 'Arn'] });
export const objectsArn = (bucketId: string, pattern: string): unknown => ({
  'Fn::Join': ['', [arnOf(bucketId), `/${pattern}`]],
});

/** The statements of the inline policy attached to `roleId`. */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) =>
    (p.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  expect(policies).toHaveLength(1);
  return ((policies[0]?.[1].PolicyDocument as { Statement: Statement[] }).Statement ?? []) as Statement[];
}

export function allStatements(template: Template): Statement[] {
  const fromPolicies = resourcesOf(template, 'AWS::IAM::Policy').flatMap(
    ([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement,
  );
  const fromRoles = resourcesOf(template, 'AWS::IAM::Role').flatMap(([, p]) =>
    ((p.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }> | undefined) ?? []).flatMap(
      (x) => x.PolicyDocument.Statement,
    ),
  );
  return [...fromPolicies, ...fromRoles];
}

export const actionsOf = (s: Statement): string[] => [s.Action].flat() as string[];

/** ListBucket only for keys under the two prefixes (so a missing key there is a 404, not a 403). */
export const listOwnPrefixes = (bucketId: string, uploads = 'uploads/', results = 'results/'): Statement => ({
  Sid: 'ListOwnPrefixes',
  Effect: 'Allow',
  Action: 's3:ListBucket',
  Resource: arnOf(bucketId),
  Condition: { StringLike: { 's3:prefix': [`${uploads}*`, `${results}*`] } },
});

/** The analysis roles' statements, in policy order (the Lambda role adds its log group before `consume`). */
export function expectedPipelineStatements(
  bucketId: string,
  busId: string,
  queueId: string,
): {
  s3: Statement[];
  putEvents: Statement;
  consume: Statement;
} {
  return {
    s3: [
      {
        Sid: 'ReadUploads',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucketId, 'uploads/*'),
      },
      {
        Sid: 'WriteResults',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: objectsArn(bucketId, 'results/*'),
      },
      // read-back for idempotency: result.json / error.json / event.json under results/<id>/
      {
        Sid: 'ReadResults',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucketId, 'results/*'),
      },
      listOwnPrefixes(bucketId),
    ],
    putEvents: { Effect: 'Allow', Action: 'events:PutEvents', Resource: arnOf(busId) },
    consume: {
      Effect: 'Allow',
      Action: [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ],
      Resource: arnOf(queueId),
    },
  };
}
