// The cost table in README.md and cdk/README.md is generated (scripts/cost-table.ts) from the
// committed load test, cdk/capacity.ts and the stack's defaults: it must not drift from them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COST_TABLE_FILES, costTable, embeddedTable, readLoadTest } from '../../scripts/cost-table.js';

it.each(COST_TABLE_FILES.map((f) => [path.basename(path.dirname(f)) + '/' + path.basename(f), f]))(
  '%s carries the current cost table (regenerate: npx tsx scripts/cost-table.ts --write)',
  (_name, file) => {
    expect(embeddedTable(readFileSync(file, 'utf8'))).toBe(costTable(readLoadTest()));
  },
);

it('scales the measured per-vCPU throughput by the function’s vCPU share (hand-computed)', () => {
  // 9.5/s on 2 loops x 1 thread = 4.75 per vCPU; 3008 MB / 1769 = 1.7004 vCPU → 8.077/s
  const table = costTable({
    date: '2026-11-26T00:00:00Z',
    machine: { cpu: 'AMD EPYC', cores: 2 },
    model: { version: '1.2.0' },
    settings: { concurrency: 2, intraOpThreads: 1 },
    results: { throughputPerSecond: 9.5 },
  });
  expect(table).toContain('| 8.1 uploads/s per function (measured, scaled) | $6.11 |');
  expect(table).toContain('4.75 per vCPU');
});
