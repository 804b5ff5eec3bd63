/**
 * Guard: the synthesized template's logical IDs and resource types, per compute mode. A renamed
 * or re-parented construct changes a logical ID, and CloudFormation then REPLACES that resource
 * in every existing deployment (a new bucket, new queues). A change here must be deliberate:
 * regenerate with `UPDATE_LOGICAL_IDS=1 npx jest test/cdk/logical-ids.test.ts` and say why in
 * the commit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ComputeOption } from '../../cdk/lesion-pipeline.js';
import { stackWith } from './helpers.js';

const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), 'logical-ids.json');
const MODES: ComputeOption[] = ['cpu', 'gpu', 'both'];

function logicalIds(compute: ComputeOption): string[] {
  const { template } = stackWith({ compute });
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  return Object.entries(resources)
    .map(([id, r]) => `${id} ${r.Type}`)
    .sort();
}

const current = Object.fromEntries(MODES.map((m) => [m, logicalIds(m)]));
if (process.env.UPDATE_LOGICAL_IDS === '1') writeFileSync(FIXTURE, JSON.stringify(current, null, 2) + '\n');
const expected = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string[]>;

it.each(MODES)('compute=%s keeps every logical ID and resource type', (mode) => {
  expect(current[mode]).toEqual(expected[mode]);
});
