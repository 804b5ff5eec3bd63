import type { AnalysisResult, ErrorResult } from '../results/result.js';

/** Plain-text table with padded columns and a rule under the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines: string[] = [];
  rows.forEach((r, n) => {
    lines.push(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
    if (n === 0) lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  return lines.join('\n');
}

export const RESULT_COLUMNS = [
  'image',
  'status',
  'melanoma',
  'seb. keratosis',
  'lesion area',
  'flags / error',
  'outputs',
];

/**
 * One table row for an analysis or an error; `+` marks a probability above its threshold. A
 * withheld classification shows no score (it is not a finding): `withheld (<reasons>)`.
 */
export function resultRow(r: AnalysisResult | ErrorResult, outputPath: string): string[] {
  if (r.status === 'error') return [r.image.id, 'error', '-', '-', '-', r.error.code, outputPath];
  const c = r.classification;
  const withheld = `withheld (${c.withheldReasons.join(',')})`;
  const mark = (x: { probability: number; positive: boolean }) =>
    c.withheld ? withheld : `${x.probability.toFixed(3)}${x.positive ? ' +' : ''}`;
  return [
    r.image.id,
    c.withheld ? 'ok (withheld)' : 'ok',
    mark(c.melanoma),
    mark(c.seborrheicKeratosis),
    `${(r.segmentation.areaFraction * 100).toFixed(1)}%`,
    r.quality.flags.join(',') || '-',
    outputPath,
  ];
}

export const THRESHOLD_NOTE =
  "'+' = above the model's decision threshold (chosen for 89% sensitivity on ISIC 2017 Validation); 'withheld' = no score is given for this image (see the reasons and result.json). Decision support, not a diagnosis.";
