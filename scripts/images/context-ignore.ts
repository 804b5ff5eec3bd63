// Prints the CDK image assets' build-context exclude list as an ignore file for `buildah bud
// --ignorefile`, so `npm run test:images` builds from the same context `cdk deploy` uploads.
import { DOCKER_CONTEXT_EXCLUDES } from '../../cdk/lesion-pipeline.js';

console.log(DOCKER_CONTEXT_EXCLUDES.join('\n'));
