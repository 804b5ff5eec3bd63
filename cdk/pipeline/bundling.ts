/** How the Lambda functions are bundled (local esbuild, no Docker): scripts/bundle.ts's recipe. */
import * as lambdaNodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { ESM_REQUIRE_BANNER, MAIN_FIELDS } from '../../scripts/bundle.js';

/** ESM bundle settings shared by the analyze and API functions (local esbuild, no Docker). */
export function esmBundling(externalModules: readonly string[]): lambdaNodejs.BundlingOptions {
  return {
    format: lambdaNodejs.OutputFormat.ESM,
    target: 'node22',
    platform: 'node',
    mainFields: MAIN_FIELDS,
    banner: ESM_REQUIRE_BANNER,
    // Anything not listed is bundled, the AWS SDK included (its version is pinned by the lock file).
    externalModules: [...externalModules],
    minify: true,
    keepNames: true, // error classes log their real names
    sourceMap: true,
    forceDockerBundling: false,
  };
}
