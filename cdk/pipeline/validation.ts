/** Validation of LesionPipelineProps: every problem collected, thrown as one error. */
import { Stack, Token } from 'aws-cdk-lib';
import type { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { prefixesOverlap } from '../../src/results/keys.js';
import {
  API_AUTHORIZATIONS,
  ApiAuthorization,
  COMPUTE_OPTIONS,
  ComputeOption,
  LAMBDA_MAX_TIMEOUT_S,
  LambdaPackaging,
  LOG_LEVELS,
  MAX_PRESIGN_SECONDS,
  SQS_BATCH_LIMIT,
  SQS_MAX_VISIBILITY_S,
} from './constants.js';
import { LESION_PIPELINE_DEFAULTS } from './defaults.js';
import type { LesionApiProps, LesionPipelineProps } from './props.js';

function isInt(n: number): boolean {
  return Number.isInteger(n);
}

function checkPrefix(name: string, value: string, problems: string[]): void {
  if (
    value === '' ||
    !value.endsWith('/') ||
    value.startsWith('/') ||
    value.includes('..') ||
    value.includes('*')
  ) {
    problems.push(
      `${name} '${value}' must be a non-empty relative key prefix ending in '/' (e.g. 'uploads/')`,
    );
  }
}

/**
 * Check props up front and return every problem (empty = valid). The constructor throws one
 * error listing them all.
 *
 * @example
 * validateLesionPipelineProps({ batchSize: 20 }); // ['batchSize must be an integer from 1 to 10, got 20']
 */
export function validateLesionPipelineProps(props: LesionPipelineProps): string[] {
  const d = LESION_PIPELINE_DEFAULTS;
  const problems: string[] = [];
  const compute = props.compute ?? d.compute;
  if (!COMPUTE_OPTIONS.includes(compute)) {
    problems.push(`compute must be one of ${COMPUTE_OPTIONS.join(', ')}, got '${String(compute)}'`);
  }
  const packaging = props.lambdaPackaging ?? d.lambdaPackaging;
  if (!Object.values(LambdaPackaging).includes(packaging)) {
    problems.push(`lambdaPackaging must be 'zip' or 'image', got '${String(packaging)}'`);
  }
  if (
    packaging === LambdaPackaging.IMAGE &&
    (props.functionCode || props.runtimeLayerCode || props.modelLayerCode)
  ) {
    problems.push("functionCode/runtimeLayerCode/modelLayerCode apply to lambdaPackaging 'zip' only");
  }

  const uploads = props.uploadsPrefix ?? d.uploadsPrefix;
  const results = props.resultsPrefix ?? d.resultsPrefix;
  checkPrefix('uploadsPrefix', uploads, problems);
  checkPrefix('resultsPrefix', results, problems);
  if (prefixesOverlap(uploads, results)) {
    problems.push(
      `resultsPrefix '${results}' and uploadsPrefix '${uploads}' must not overlap: results written under the ` +
        'notification filter would trigger the pipeline again (recursion)',
    );
  }

  const batchSize = props.batchSize ?? d.batchSize;
  if (!isInt(batchSize) || batchSize < 1 || batchSize > SQS_BATCH_LIMIT) {
    problems.push(`batchSize must be an integer from 1 to ${SQS_BATCH_LIMIT}, got ${batchSize}`);
  }
  const maxReceiveCount = props.maxReceiveCount ?? d.maxReceiveCount;
  if (!isInt(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    problems.push(`maxReceiveCount must be an integer from 1 to 1000, got ${maxReceiveCount}`);
  }
  const memorySize = props.memorySize ?? d.memorySize;
  if (!isInt(memorySize) || memorySize < 128 || memorySize > 10_240) {
    problems.push(`memorySize must be an integer from 128 to 10240 MB, got ${memorySize}`);
  }
  const timeout = props.functionTimeout ?? d.functionTimeout;
  const timeoutS = timeout.toSeconds();
  if (timeoutS < 1 || timeoutS > LAMBDA_MAX_TIMEOUT_S) {
    problems.push(`functionTimeout must be from 1 to ${LAMBDA_MAX_TIMEOUT_S} seconds, got ${timeoutS}`);
  }
  if (props.visibilityTimeout !== undefined) {
    const vis = props.visibilityTimeout.toSeconds();
    if (vis <= timeoutS) {
      problems.push(
        `visibilityTimeout (${vis} s) must be greater than functionTimeout (${timeoutS} s); AWS recommends 6x (${
          6 * timeoutS
        } s)`,
      );
    }
    if (vis > SQS_MAX_VISIBILITY_S) problems.push(`visibilityTimeout must be at most 12 hours, got ${vis} s`);
  } else if (d.visibilityTimeoutFactor * timeoutS > SQS_MAX_VISIBILITY_S) {
    problems.push(
      '6 x functionTimeout exceeds the 12 h SQS visibility limit; set visibilityTimeout explicitly',
    );
  }
  if (props.reservedConcurrency !== undefined) {
    if (!isInt(props.reservedConcurrency) || props.reservedConcurrency < 1) {
      problems.push(`reservedConcurrency must be an integer >= 1, got ${props.reservedConcurrency}`);
    }
  }
  const maxConcurrency = props.maxConcurrency ?? d.maxConcurrency;
  if (!isInt(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
    problems.push(`maxConcurrency must be an integer from 2 to 1000, got ${maxConcurrency}`);
  }
  if (props.reservedConcurrency !== undefined && maxConcurrency > props.reservedConcurrency) {
    problems.push(
      `maxConcurrency (${maxConcurrency}) must not exceed reservedConcurrency (${props.reservedConcurrency}): ` +
        'the SQS poller would be throttled and messages would burn receives toward the DLQ',
    );
  }
  if (props.logLevel !== undefined && !LOG_LEVELS.includes(props.logLevel)) {
    problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got '${String(props.logLevel)}'`);
  }
  const positives: Array<[string, number | undefined]> = [
    ['maxPixels', props.maxPixels],
    ['maxBytes', props.maxBytes],
    ['overlayMaxSide', props.overlayMaxSide],
    ['gpuMaxBatch', props.gpuMaxBatch],
    ['gpuBacklogPerTask', props.gpuBacklogPerTask],
    ['gpuTaskMemoryMiB', props.gpuTaskMemoryMiB],
    ['gpuRootVolumeGiB', props.gpuRootVolumeGiB],
  ];
  for (const [name, value] of positives) {
    if (value !== undefined && (!isInt(value) || value < 1))
      problems.push(`${name} must be an integer >= 1, got ${value}`);
  }
  if (props.intraOpThreads !== undefined && (!isInt(props.intraOpThreads) || props.intraOpThreads < 0)) {
    problems.push(
      `intraOpThreads must be an integer >= 0 (0 = onnxruntime decides), got ${props.intraOpThreads}`,
    );
  }
  if (
    props.gpuImagesPerSecondPerTask !== undefined &&
    !(Number.isFinite(props.gpuImagesPerSecondPerTask) && props.gpuImagesPerSecondPerTask > 0)
  ) {
    problems.push(`gpuImagesPerSecondPerTask must be a number > 0, got ${props.gpuImagesPerSecondPerTask}`);
  }
  const drain = props.gpuBacklogDrainTime;
  if (drain !== undefined && !Token.isUnresolved(drain.toSeconds()) && drain.toSeconds() < 60) {
    problems.push(`gpuBacklogDrainTime must be at least 1 minute, got ${drain.toHumanString()}`);
  }
  const gpuMax = props.gpuMaxInstances ?? d.gpuMaxInstances;
  if (!isInt(gpuMax) || gpuMax < 1 || gpuMax > 20) {
    problems.push(`gpuMaxInstances must be an integer from 1 to 20, got ${gpuMax}`);
  }
  const azCount = props.availabilityZones?.length ?? d.azCount;
  if (props.availabilityZones !== undefined && azCount < 1)
    problems.push('availabilityZones must not be empty');
  const nat = props.natGateways ?? d.natGateways;
  if (!isInt(nat) || nat < 0 || nat > azCount) {
    problems.push(
      `natGateways must be an integer from 0 to the number of availability zones (${azCount}), got ${nat}`,
    );
  }
  const busName = props.eventBusName ?? d.eventBusName;
  if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(busName) || busName === 'default') {
    problems.push(`eventBusName '${busName}' must be 1-256 of [A-Za-z0-9._-/] and not 'default'`);
  }
  const durations: Array<[string, Duration | undefined, number]> = [
    ['resultsExpiration', props.resultsExpiration, 1],
    ['noncurrentVersionExpiration', props.noncurrentVersionExpiration, 1],
    ['accessLogsExpiration', props.accessLogsExpiration, 1],
  ];
  for (const [name, value, minDays] of durations) {
    if (value !== undefined && value.toDays({ integral: false }) < minDays) {
      problems.push(`${name} must be at least ${minDays} day(s)`);
    }
  }
  if (props.api !== undefined && props.api !== false) checkApiProps(props.api, problems);
  return problems;
}

/** A browser origin: scheme, host and optional port, nothing else. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

function checkApiProps(api: LesionApiProps, problems: string[]): void {
  const auth = api.authorization ?? LESION_PIPELINE_DEFAULTS.api.authorization;
  if (!API_AUTHORIZATIONS.includes(auth)) {
    problems.push(`api.authorization must be one of ${API_AUTHORIZATIONS.join(', ')}, got '${String(auth)}'`);
  }
  if (auth === ApiAuthorization.JWT) {
    if (!api.jwtIssuer || !/^https:\/\/[^\s]+$/.test(api.jwtIssuer)) {
      problems.push(
        `api.authorization 'jwt' needs api.jwtIssuer, the https:// URL of the token issuer (iss), got ${
          api.jwtIssuer === undefined ? 'none' : `'${api.jwtIssuer}'`
        }`,
      );
    }
    if (!api.jwtAudience || api.jwtAudience.length === 0 || api.jwtAudience.some((a) => !a || !a.trim())) {
      problems.push(
        "api.authorization 'jwt' needs api.jwtAudience, one or more non-empty audiences (aud or client_id)",
      );
    }
  } else if (api.jwtIssuer !== undefined || api.jwtAudience !== undefined) {
    problems.push("api.jwtIssuer / api.jwtAudience apply to api.authorization 'jwt' only");
  }
  if (api.corsOrigins !== undefined) {
    const bad = api.corsOrigins.filter((o) => !ORIGIN.test(o));
    if (api.corsOrigins.length === 0 || bad.length > 0) {
      problems.push(
        'api.corsOrigins must be a non-empty list of origins like https://app.example.org ' +
          `(scheme://host[:port], no path, no '*')${bad.length > 0 ? `, got ${bad.map((o) => `'${o}'`).join(', ')}` : ''}`,
      );
    }
  }
  if (api.throttle !== undefined) {
    const { rateLimit, burstLimit } = api.throttle;
    if (!Number.isFinite(rateLimit) || rateLimit <= 0) {
      problems.push(`api.throttle.rateLimit must be a number > 0 (requests per second), got ${rateLimit}`);
    }
    if (!isInt(burstLimit) || burstLimit < 1) {
      problems.push(`api.throttle.burstLimit must be an integer >= 1, got ${burstLimit}`);
    }
  }
  const ttls: Array<[string, Duration | undefined]> = [
    ['api.uploadUrlTtl', api.uploadUrlTtl],
    ['api.downloadUrlTtl', api.downloadUrlTtl],
  ];
  for (const [name, value] of ttls) {
    if (value === undefined) continue;
    const seconds = value.toSeconds({ integral: false });
    if (!isInt(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
      problems.push(
        `${name} must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS} (7 days), got ${seconds}`,
      );
    }
  }
}

/**
 * Throw one error listing every problem of `props`, including the one that needs the stack: an
 * explicit region without availabilityZones (the GPU VPC would need an AZ context lookup).
 */
export function assertValidLesionPipelineProps(scope: Construct, props: LesionPipelineProps): void {
  const problems = validateLesionPipelineProps(props);
  const compute = props.compute ?? LESION_PIPELINE_DEFAULTS.compute;
  if (
    compute !== ComputeOption.CPU &&
    !props.availabilityZones &&
    !Token.isUnresolved(Stack.of(scope).region)
  ) {
    problems.push(
      `stack ${Stack.of(scope).stackName} has an explicit region: set availabilityZones (explicit AZ names, ` +
        'and use LesionStack, which answers Stack.availabilityZones from them) or keep the stack ' +
        'environment-agnostic; otherwise the GPU VPC needs an AZ context lookup (credentials)',
    );
  }
  if (problems.length > 0) {
    throw new Error(`Invalid LesionPipeline props (${problems.length}):\n  - ${problems.join('\n  - ')}`);
  }
}
