// Generated sections of Markdown files: text between a begin and an end marker, rewritten by a
// script's `--write` and compared by a drift test (scripts/cost-table.ts, scripts/env-table.ts).
import { readFileSync, writeFileSync } from 'node:fs';

export interface SectionMarkers {
  readonly begin: string;
  readonly end: string;
}

/** The section of `text` from its begin marker through its end marker, or null when either is missing. */
export function sectionOf(text: string, m: SectionMarkers): string | null {
  const a = text.indexOf(m.begin);
  const b = text.indexOf(m.end);
  return a < 0 || b < a ? null : text.slice(a, b + m.end.length);
}

/** Replace `file`'s section with `section` (which carries the markers itself). */
export function writeSection(file: string, m: SectionMarkers, section: string): void {
  const text = readFileSync(file, 'utf8');
  const old = sectionOf(text, m);
  if (old === null) throw new Error(`${file} has no section between ${m.begin} and ${m.end}`);
  writeFileSync(file, text.replace(old, section));
}
