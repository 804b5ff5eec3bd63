// Pure formatting helpers for docs/benchmarks/latest.md (no I/O, unit-tested in test/bench/).

/** A table cell: text, a number shown as-is, or a missing value (shown as an em dash). */
export type Cell = string | number | null | undefined;

export const MISSING = '—';

/** Escape a cell for a Markdown table: pipes and newlines would break the row. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function cellText(c: Cell): string {
  if (c === null || c === undefined) return MISSING;
  if (typeof c === 'number') return Number.isFinite(c) ? String(c) : MISSING;
  return escapeCell(c);
}

/**
 * A GitHub-flavoured Markdown table. `align` gives one 'l' or 'r' per column (default: left);
 * short rows are padded with empty cells, long rows are an error.
 *
 * @example
 * markdownTable(['a', 'b'], [[1, null]], ['l', 'r'])
 * // '| a | b |\n| :-- | --: |\n| 1 | — |'
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  align?: readonly ('l' | 'r')[],
): string {
  const width = headers.length;
  if (width === 0) throw new Error('a table needs at least one column');
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const rule = headers.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '--:' : ':--'));
  const body = rows.map((r, i) => {
    if (r.length > width) throw new Error(`row ${i} has ${r.length} cells, the table has ${width} columns`);
    const cells = r.map(cellText);
    while (cells.length < width) cells.push('');
    return line(cells);
  });
  return [line(headers.map(escapeCell)), line(rule), ...body].join('\n');
}

/**
 * A number with a fixed number of decimals, or an em dash when missing / not finite.
 *
 * @example
 * fmt(3.14159, 2) // '3.14'
 * fmt(null) // '—'
 */
export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  return x.toFixed(digits);
}

/**
 * Milliseconds with precision that suits the magnitude: 2 decimals below 10 ms, 1 below
 * 100 ms, none above.
 *
 * @example
 * fmtMs(4.567) // '4.57'
 * fmtMs(45.67) // '45.7'
 * fmtMs(456.7) // '457'
 */
export function fmtMs(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  const a = Math.abs(x);
  return x.toFixed(a < 10 ? 2 : a < 100 ? 1 : 0);
}

/**
 * A ratio as "N×" (2 significant decimals below 10, 1 above).
 *
 * @example
 * fmtRatio(3.456) // '3.46×'
 * fmtRatio(12.34) // '12.3×'
 */
export function fmtRatio(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  return `${x.toFixed(x < 10 ? 2 : 1)}×`;
}

/**
 * Bytes in binary units.
 *
 * @example
 * fmtBytes(1536) // '1.5 KiB'
 * fmtBytes(3 * 1024 * 1024) // '3.0 MiB'
 */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return MISSING;
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
