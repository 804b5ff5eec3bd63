// The environment tables in README.md and docs/integration.md are rendered from
// src/config-reference.ts (scripts/env-table.ts): they must not drift from the code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENV } from '../../src/config.js';
import { PIPELINE_ENV } from '../../src/config-reference.js';
import { embeddedEnvTable, ENV_TABLES, renderEnvTable } from '../../scripts/env-table.js';

it.each(ENV_TABLES.map((t) => [t.name, path.basename(t.file), t] as const))(
  'the %s table in %s is current (regenerate: npx tsx scripts/env-table.ts --write)',
  (_name, _file, t) => {
    expect(embeddedEnvTable(readFileSync(t.file, 'utf8'), t.name)).toBe(renderEnvTable(t.name, t.variables));
  },
);

it('lists every variable loadConfig reads, with the default the code uses', () => {
  const names = PIPELINE_ENV.map((v) => v.name);
  for (const name of Object.values(ENV)) expect(names).toContain(name);
  expect(PIPELINE_ENV.find((v) => v.name === 'LESION_MAX_BYTES')?.default).toBe('`41943040`');
});

it('renders names, defaults and meanings as one Markdown row each', () => {
  const table = renderEnvTable('x', [
    { name: 'A_B', default: '`1`', meaning: 'one' },
    { name: 'C / D', default: '', meaning: 'two' },
  ]);
  expect(table.split('\n').slice(1, -1)).toEqual([
    '| variable | default | meaning |',
    '|---|---|---|',
    '| `A_B` | `1` | one |',
    '| `C` / `D` |  | two |',
  ]);
});
