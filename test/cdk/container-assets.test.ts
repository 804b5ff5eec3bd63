/**
 * The Docker build contexts CDK stages at synth (no Docker needed): repository root filtered
 * to the allow-list, with the Dockerfile the asset names.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GPU_WORKER_HEALTH_CHECK, LesionPipeline, REPO_ROOT } from '../../cdk/lesion-pipeline.js';
import { logicalId, newApp } from './helpers.js';

function stagedContext(props: ConstructorParameters<typeof LesionPipeline>[2]): {
  dir: string;
  template: Template;
} {
  const app = newApp();
  const stack = new Stack(app, 'ContainerStack');
  new LesionPipeline(stack, 'Pipeline', props);
  const assembly = app.synth();
  const manifest = JSON.parse(
    fs.readFileSync(path.join(assembly.directory, 'ContainerStack.assets.json'), 'utf8'),
  ) as {
    dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }>;
  };
  const images = Object.values(manifest.dockerImages);
  expect(images).toHaveLength(1);
  return {
    dir: path.join(assembly.directory, images[0]!.source.directory),
    template: Template.fromStack(stack),
  };
}

const FORBIDDEN = ['node_modules', '.git', 'cdk.out', 'runs', 'training', '.cache', 'test', 'coverage'];

function expectAllowListed(dir: string, dockerfile: string): void {
  const top = fs.readdirSync(dir);
  for (const name of FORBIDDEN) expect(top).not.toContain(name);
  for (const name of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'src', 'functions']) {
    expect(top).toContain(name);
  }
  expect(fs.existsSync(path.join(dir, dockerfile))).toBe(true);
  expect(fs.readdirSync(path.join(dir, 'layers'))).toEqual(['build.ts']);
  expect(fs.readdirSync(path.join(dir, 'scripts'))).toEqual(['bundle.ts']); // the one bundling recipe
  const nested = fs.readdirSync(dir, { recursive: true }).map(String);
  expect(nested.filter((p) => p.split(path.sep).includes('node_modules'))).toEqual([]);
  expect(nested.filter((p) => p.endsWith('.test.ts'))).toEqual([]);
}

describe('container build contexts', () => {
  it('GPU worker: repo root filtered to the allow-list, functions/gpu-worker/Dockerfile', () => {
    const { dir, template } = stagedContext({ compute: 'gpu', api: false });
    expectAllowListed(dir, 'functions/gpu-worker/Dockerfile');
    const taskDefId = logicalId(template, 'AWS::ECS::TaskDefinition', 'PipelineGpuTaskDefinition');
    const image = JSON.stringify(
      template.toJSON().Resources[taskDefId].Properties.ContainerDefinitions[0].Image,
    );
    expect(image).toContain('container-assets');
  });

  it('Lambda image: the same context with functions/analyze/Dockerfile', () => {
    const { dir, template } = stagedContext({ compute: 'cpu', lambdaPackaging: 'image', api: false });
    expectAllowListed(dir, 'functions/analyze/Dockerfile');
    template.hasResourceProperties('AWS::Lambda::Function', { PackageType: 'Image' });
    expect(lambda.Runtime.NODEJS_22_X.name).toBe('nodejs22.x');
  });

  it('Dockerfiles: CUDA 12 + cuDNN runtime with the CUDA provider for the worker, Lambda Node 22 for analyze', () => {
    const gpu = fs.readFileSync(path.join(REPO_ROOT, 'functions', 'gpu-worker', 'Dockerfile'), 'utf8');
    expect(gpu).toMatch(/nvidia\/cuda:12\.[0-9.]+-cudnn-runtime-ubuntu22\.04/);
    expect(gpu).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(gpu).toMatch(/ARG NODE_IMAGE=node:22/);
    expect(gpu).toMatch(/^USER /m);
    const cpu = fs.readFileSync(path.join(REPO_ROOT, 'functions', 'analyze', 'Dockerfile'), 'utf8');
    expect(cpu).toContain('public.ecr.aws/lambda/nodejs:22');
    expect(cpu).not.toContain('cuda12');
    expect(cpu).toContain('CMD ["index.handler"]');
  });

  it("the worker image's HEALTHCHECK runs the command the ECS task definition runs", () => {
    const gpu = fs.readFileSync(path.join(REPO_ROOT, 'functions', 'gpu-worker', 'Dockerfile'), 'utf8');
    const line = gpu.split('\n').find((l) => l.startsWith('HEALTHCHECK '));
    const command = JSON.parse(line!.slice(line!.indexOf('CMD ') + 'CMD '.length)) as string[];
    expect(['CMD', ...command]).toEqual([...GPU_WORKER_HEALTH_CHECK]);
  });
});
