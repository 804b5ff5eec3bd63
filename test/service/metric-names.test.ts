/**
 * Metric names are public (dashboards, alarms): each has one home, `MetricName`, and the
 * operators' table in cdk/README.md lists exactly those names.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MetricName } from '../../src/service/metric-names.js';
import { REPO_ROOT } from '../helpers/model.js';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

describe('metric names', () => {
  it('cdk/README.md lists exactly the names in MetricName', () => {
    const readme = read('cdk/README.md');
    const section = readme.slice(
      readme.indexOf('## Metrics'),
      readme.indexOf('\n## ', readme.indexOf('## Metrics') + 1),
    );
    const listed = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.values(MetricName).sort());
  });

  it('every metric emitted by the Lambda, the worker and the batch core is named through MetricName', () => {
    for (const file of [
      'src/service/telemetry.ts',
      'functions/analyze/handler.ts',
      'functions/gpu-worker/worker.ts',
    ]) {
      const calls = [...read(file).matchAll(/addMetric\(([^,]+),/g)].map((m) => m[1]);
      expect(calls.length).toBeGreaterThan(0);
      for (const name of calls) expect(name).toMatch(/^MetricName\.[A-Z_]+$/);
    }
  });

  it('spells analyze one way: no metric name says "Analysed"', () => {
    for (const name of Object.values(MetricName)) expect(name).not.toMatch(/analys(e|ed)\b|Analysed/);
  });
});
