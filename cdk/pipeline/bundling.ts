/** How the Lambda functions are bundled (local esbuild, no Docker). */
import * as lambdaNodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** ESM bundle settings shared by the analyze and API functions (local esbuild, no Docker). */
export function esmBundling(externalModules: readonly string[]): lambdaNodejs.BundlingOptions {
  return {
    format: lambdaNodejs.OutputFormat.ESM,
    target: 'node22',
    platform: 'node',
    mainFields: ['module', 'main'],
    // ESM bundles of CommonJS dependencies need a real `require`.
    banner:
      "import { createRequire as __lesionCreateRequire } from 'node:module'; const require = __lesionCreateRequire(import.meta.url);",
    // Anything not listed is bundled, the AWS SDK included (its version is pinned by the lock file).
    externalModules: [...externalModules],
    minify: true,
    keepNames: true, // error classes log their real names
    sourceMap: true,
    forceDockerBundling: false,
  };
}
