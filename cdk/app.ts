/**
 * CDK app entry (`cdk.json`: `npx tsx cdk/app.ts`).
 *
 *   CDK_DISABLE_CLI_TELEMETRY=true npx cdk deploy --no-notices                  # compute=gpu (the default)
 *   CDK_DISABLE_CLI_TELEMETRY=true npx cdk deploy --no-notices -c compute=cpu   # Lambda only
 *
 * Context flags: `compute` = gpu | cpu | both (default gpu), `lambdaPackaging` = zip | image,
 * `gpuMaxTasks` (most GPU worker tasks = instances, default 2), `alarmEmail` (subscribed to the
 * alarm topic),
 * `stackName` (default LesionMtl), `buildLayers` = true | false (default true),
 * `api` = iam | jwt | off (default iam; the upload API), with `jwt`: `jwtIssuer` (https URL) and
 * `jwtAudience` (comma-separated); `corsOrigins` (comma-separated browser origins, optional).
 *
 * The stack is environment-agnostic (no account/region, no context lookups), so synth works
 * offline without credentials; deploy uses the account/region of your AWS profile.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildLayers, LayerBuildError, layersBuilt } from '../layers/build.js';
import {
  API_AUTHORIZATIONS,
  COMPUTE_OPTIONS,
  LambdaPackaging,
  LESION_PIPELINE_DEFAULTS,
} from './lesion-pipeline.js';
import type { ApiAuthorization, ComputeOption, LesionApiProps } from './lesion-pipeline.js';
import { LesionStack } from './lesion-stack.js';

const app = new App();
const context = (key: string, fallback: string): string => String(app.node.tryGetContext(key) ?? fallback);

const compute = context('compute', LESION_PIPELINE_DEFAULTS.compute) as ComputeOption;
if (!COMPUTE_OPTIONS.includes(compute)) {
  console.error(`context compute=${compute}: expected one of ${COMPUTE_OPTIONS.join(', ')}`);
  process.exit(1);
}
const lambdaPackaging = context('lambdaPackaging', LambdaPackaging.ZIP) as LambdaPackaging;

const apiMode = context('api', 'iam');
if (apiMode !== 'off' && !API_AUTHORIZATIONS.includes(apiMode as ApiAuthorization)) {
  console.error(`context api=${apiMode}: expected one of ${API_AUTHORIZATIONS.join(', ')}, off`);
  process.exit(1);
}
const list = (key: string): string[] | undefined => {
  const raw = app.node.tryGetContext(key) as unknown;
  if (raw === undefined) return undefined;
  return (Array.isArray(raw) ? raw.map(String) : String(raw).split(',')).map((s) => s.trim()).filter(Boolean);
};
const jwtIssuer = app.node.tryGetContext('jwtIssuer') as string | undefined;
const gpuMaxTasks = app.node.tryGetContext('gpuMaxTasks') as string | number | undefined;
const alarmEmail = app.node.tryGetContext('alarmEmail') as string | undefined;
const jwtAudience = list('jwtAudience');
const corsOrigins = list('corsOrigins');
const api: LesionApiProps | false =
  apiMode === 'off'
    ? false
    : {
        authorization: apiMode as ApiAuthorization,
        ...(jwtIssuer !== undefined ? { jwtIssuer: String(jwtIssuer) } : {}),
        ...(jwtAudience ? { jwtAudience } : {}),
        ...(corsOrigins ? { corsOrigins } : {}),
      };
if (app.node.tryGetContext('allowResultsRead') !== undefined) {
  console.error('context allowResultsRead is ignored: reading back results/ is always granted now');
}

// The zip-packaged Lambda deploys layers/runtime/build and layers/model/build. Rebuild them on
// every synth (offline copy from node_modules + models/, ~2 s) so a re-exported model or an
// upgraded onnxruntime never ships stale; -c buildLayers=false reuses existing folders.
if (compute !== 'gpu' && lambdaPackaging === LambdaPackaging.ZIP) {
  const rebuild = context('buildLayers', 'true') !== 'false' || !layersBuilt();
  if (rebuild) {
    try {
      buildLayers({ log: (m) => console.error(m) });
    } catch (err) {
      if (!(err instanceof LayerBuildError)) throw err;
      console.error(`Cannot build the Lambda layers: ${err.message}`);
      process.exit(1);
    }
  }
}

try {
  new LesionStack(app, context('stackName', 'LesionMtl'), {
    pipeline: {
      compute,
      lambdaPackaging,
      api,
      ...(gpuMaxTasks !== undefined ? { gpuMaxInstances: Number(gpuMaxTasks) } : {}),
      ...(alarmEmail !== undefined ? { alarmEmail: String(alarmEmail) } : {}),
    },
  });
} catch (err) {
  // Prop validation lists every problem; print it without a stack trace.
  if (!(err instanceof Error) || !err.message.startsWith('Invalid LesionPipeline props')) throw err;
  console.error(err.message);
  process.exit(1);
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
