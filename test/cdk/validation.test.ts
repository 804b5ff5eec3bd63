/** Prop validation: every problem collected into one error (cdk/pipeline/validation.ts). */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { LesionPipeline, validateLesionPipelineProps } from '../../cdk/lesion-pipeline.js';
import { constructWith, fastProps, newApp } from './helpers.js';

describe('LesionPipeline prop validation', () => {
  const build = (props: Parameters<typeof fastProps>[0]) => () =>
    new LesionPipeline(new Stack(newApp(), 'S'), 'Pipeline', fastProps(props));

  it('accepts the defaults', () => {
    expect(validateLesionPipelineProps({})).toEqual([]);
  });

  it('collects every problem into one error', () => {
    expect(
      build({
        reservedConcurrency: 0,
        maxConcurrency: 2,
        batchSize: 11,
        visibilityTimeout: Duration.seconds(60),
      }),
    ).toThrow(
      'Invalid LesionPipeline props (4):\n' +
        '  - batchSize must be an integer from 1 to 10, got 11\n' +
        '  - visibilityTimeout (60 s) must be greater than functionTimeout (60 s); AWS recommends 6x (360 s)\n' +
        '  - reservedConcurrency must be an integer >= 1, got 0\n' +
        '  - maxConcurrency (2) must not exceed reservedConcurrency (0): the SQS poller would be throttled and messages would burn receives toward the DLQ',
    );
  });

  it("api 'jwt' without issuer and audience: both problems, collected with the others into one error", () => {
    expect(build({ batchSize: 0, api: { authorization: 'jwt' } })).toThrow(
      'Invalid LesionPipeline props (3):\n' +
        '  - batchSize must be an integer from 1 to 10, got 0\n' +
        "  - api.authorization 'jwt' needs api.jwtIssuer, the https:// URL of the token issuer (iss), got none\n" +
        "  - api.authorization 'jwt' needs api.jwtAudience, one or more non-empty audiences (aud or client_id)",
    );
    expect(
      validateLesionPipelineProps({
        api: { authorization: 'jwt', jwtIssuer: 'https://idp.example.org/', jwtAudience: ['lesion'] },
      }),
    ).toEqual([]);
    expect(validateLesionPipelineProps({ api: false })).toEqual([]);
  });

  it('rejects overlapping prefixes (recursion)', () => {
    expect(validateLesionPipelineProps({ uploadsPrefix: 'data/', resultsPrefix: 'data/results/' })).toEqual([
      "resultsPrefix 'data/results/' and uploadsPrefix 'data/' must not overlap: results written under the notification filter would trigger the pipeline again (recursion)",
    ]);
    expect(validateLesionPipelineProps({ resultsPrefix: 'uploads/' })).toHaveLength(1);
  });

  it.each([
    [
      { uploadsPrefix: 'uploads' },
      "uploadsPrefix 'uploads' must be a non-empty relative key prefix ending in '/' (e.g. 'uploads/')",
    ],
    [{ compute: 'tpu' as never }, "compute must be one of cpu, gpu, both, got 'tpu'"],
    [{ batchSize: 0 }, 'batchSize must be an integer from 1 to 10, got 0'],
    [{ maxReceiveCount: 0 }, 'maxReceiveCount must be an integer from 1 to 1000, got 0'],
    [{ memorySize: 64 }, 'memorySize must be an integer from 128 to 10240 MB, got 64'],
    [{ functionTimeout: Duration.minutes(16) }, 'functionTimeout must be from 1 to 900 seconds, got 960'],
    [{ maxConcurrency: 1 }, 'maxConcurrency must be an integer from 2 to 1000, got 1'],
    [
      { natGateways: 3 },
      'natGateways must be an integer from 0 to the number of availability zones (2), got 3',
    ],
    [{ gpuMaxInstances: 0 }, 'gpuMaxInstances must be an integer from 1 to 20, got 0'],
    [
      { eventBusName: 'default' },
      "eventBusName 'default' must be 1-256 of [A-Za-z0-9._-/] and not 'default'",
    ],
    [{ resultsExpiration: Duration.hours(1) }, 'resultsExpiration must be at least 1 day(s)'],
    [{ visibilityTimeout: Duration.hours(13) }, 'visibilityTimeout must be at most 12 hours, got 46800 s'],
    [{ api: { authorization: 'basic' as never } }, "api.authorization must be one of iam, jwt, got 'basic'"],
    [
      { api: { jwtAudience: ['lesion'] } },
      "api.jwtIssuer / api.jwtAudience apply to api.authorization 'jwt' only",
    ],
    [
      { api: { authorization: 'jwt' as const, jwtIssuer: 'http://idp.example.org', jwtAudience: ['a'] } },
      "api.authorization 'jwt' needs api.jwtIssuer, the https:// URL of the token issuer (iss), got 'http://idp.example.org'",
    ],
    [
      { api: { corsOrigins: ['https://app.example.org/', '*'] } },
      "api.corsOrigins must be a non-empty list of origins like https://app.example.org (scheme://host[:port], no path, no '*'), got 'https://app.example.org/', '*'",
    ],
    [
      { api: { throttle: { rateLimit: 0, burstLimit: 10 } } },
      'api.throttle.rateLimit must be a number > 0 (requests per second), got 0',
    ],
    [
      { api: { throttle: { rateLimit: 10, burstLimit: 2.5 } } },
      'api.throttle.burstLimit must be an integer >= 1, got 2.5',
    ],
    [
      { api: { uploadUrlTtl: Duration.days(8) } },
      'api.uploadUrlTtl must be a whole number of seconds from 1 to 604800 (7 days), got 691200',
    ],
  ])('rejects %j', (props, message) => {
    expect(validateLesionPipelineProps(props)).toEqual([message]);
  });

  it('fails with a fix-it message when the layer folders were not built', () => {
    expect(
      () =>
        new LesionPipeline(new Stack(newApp(), 'S'), 'Pipeline', {
          compute: 'cpu',
          layersDir: '/nonexistent/layers',
          functionCode: fastProps().functionCode!,
        }),
    ).toThrow(/Runtime layer folder .* is missing: run `npm run build:layers`/);
  });

  it('takes another GPU instance type', () => {
    const { template } = constructWith({
      compute: 'gpu',
      gpuInstanceType: new ec2.InstanceType('g6.xlarge'),
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g6.xlarge' }),
    });
  });
});
