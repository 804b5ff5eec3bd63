import { Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LesionStack } from '../../cdk/lesion-stack.js';
import type { LesionPipelineProps } from '../../cdk/lesion-pipeline.js';
import { acknowledgements, fastProps, nagViolations, newApp, stackWith } from './helpers.js';

describe('cdk-nag AwsSolutions', () => {
  it('the harness reports findings on a non-compliant bucket', () => {
    const stack = new Stack(newApp(), 'Bad');
    new s3.Bucket(stack, 'Bucket');
    const rules = nagViolations(stack).map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  it.each<[string, LesionPipelineProps]>([
    ['cpu', { compute: 'cpu' }],
    ['gpu', { compute: 'gpu' }],
    ['both + tracing', { compute: 'both', tracing: true }],
    ['gpu behind NAT', { compute: 'gpu', natGateways: 1 }],
    [
      'cpu + JWT API with CORS',
      {
        compute: 'cpu',
        api: {
          authorization: 'jwt',
          jwtIssuer: 'https://idp.example.org/',
          jwtAudience: ['lesion'],
          corsOrigins: ['https://app.example.org'],
        },
      },
    ],
    ['gpu without the API', { compute: 'gpu', api: false }],
    ['cpu image packaging', { compute: 'cpu', lambdaPackaging: 'image' }],
  ])('compute %s: no unacknowledged errors or warnings', (_name, props) => {
    const { stack } = stackWith(props);
    const report = nagViolations(stack).map((v) => ({
      rule: v.ruleName,
      severity: v.severity,
      at: v.violatingResources.map((r) => r.constructPath),
    }));
    expect(report).toEqual([]);
  });

  it('every acknowledgement carries a reason', () => {
    const { stack } = stackWith({ compute: 'both', tracing: true });
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks) {
      expect(typeof ack.reason).toBe('string');
      expect((ack.reason as string).length).toBeGreaterThan(30);
    }
  });

  it('synthesizes through CDK validation with the v3 plugin API (as cdk/app.ts does)', () => {
    const app = newApp();
    new LesionStack(app, 'NagStack', { pipeline: fastProps({ compute: 'both' }) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
