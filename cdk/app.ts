/**
 * CDK app entry (`cdk.json`: `npx tsx cdk/app.ts`).
 *
 *   CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth --no-notices                 # compute=cpu (cdk.json)
 *   CDK_DISABLE_CLI_TELEMETRY=true npx cdk deploy --no-notices -c compute=gpu
 *
 * Context flags: `compute` = cpu | gpu | both, `lambdaPackaging` = zip | image,
 * `stackName` (default LesionMtl), `buildLayers` = true | false (default true),
 * `allowResultsRead` = true | false (default false; see LesionPipelineProps.allowResultsRead).
 *
 * The stack is environment-agnostic (no account/region, no context lookups), so synth works
 * offline without credentials; deploy uses the account/region of your AWS profile.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildLayers, LayerBuildError, layersBuilt } from '../layers/build.js';
import { COMPUTE_OPTIONS, LambdaPackaging } from './lesion-pipeline.js';
import type { ComputeOption } from './lesion-pipeline.js';
import { LesionStack } from './lesion-stack.js';

const app = new App();
const context = (key: string, fallback: string): string => String(app.node.tryGetContext(key) ?? fallback);

const compute = context('compute', 'cpu') as ComputeOption;
if (!COMPUTE_OPTIONS.includes(compute)) {
  console.error(`context compute=${compute}: expected one of ${COMPUTE_OPTIONS.join(', ')}`);
  process.exit(1);
}
const lambdaPackaging = context('lambdaPackaging', LambdaPackaging.ZIP) as LambdaPackaging;

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

new LesionStack(app, context('stackName', 'LesionMtl'), {
  pipeline: { compute, lambdaPackaging, allowResultsRead: context('allowResultsRead', 'false') === 'true' },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
