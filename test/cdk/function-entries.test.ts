/**
 * The entries the stack deploys read the Powertools settings the stack sets. A `serviceName` or
 * `namespace` option passed to Logger / Metrics overrides POWERTOOLS_SERVICE_NAME /
 * POWERTOOLS_METRICS_NAMESPACE, so the entries may only fall back to a literal when the variable
 * is unset. (Importing them would load the model, so this reads the source.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../cdk/lesion-pipeline.js';

const ENTRIES = ['functions/analyze/handler.ts', 'functions/gpu-worker/worker.ts'];

describe.each(ENTRIES)('%s', (entry) => {
  const source = fs.readFileSync(path.join(REPO_ROOT, entry), 'utf8');
  const constructions = [...source.matchAll(/new (Logger|Metrics)\(([^)]*)\)/g)].map((m) => m[2] ?? '');

  it('builds a Logger and a Metrics', () => {
    expect(constructions).toHaveLength(2);
  });

  it('passes no literal serviceName / namespace (the environment would lose)', () => {
    for (const options of constructions) {
      expect(options).not.toMatch(/(serviceName|namespace)\s*:\s*['"`]/);
    }
  });

  it('takes the service name and namespace from the environment first', () => {
    expect(source).toMatch(/process\.env\.POWERTOOLS_SERVICE_NAME\s*\|\|\s*'[a-z-]+'/);
    // the one default (src/service/metric-names.ts), as the stack's
    expect(source).toMatch(/process\.env\.POWERTOOLS_METRICS_NAMESPACE\s*\|\|\s*DEFAULT_METRICS_NAMESPACE;/);
  });
});
