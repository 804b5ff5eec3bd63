/** The optional full-resolution ISIC 2017 samples (../shared/data/isic2017_fullres_samples). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './model.js';

export const FULLRES_DIR =
  process.env.LESION_FULLRES_DIR ??
  path.resolve(REPO_ROOT, '..', 'shared', 'data', 'isic2017_fullres_samples');

/** Image files in the full-resolution folder, or [] when it does not exist on this machine. */
export function fullResImages(): string[] {
  if (!existsSync(FULLRES_DIR)) return [];
  return readdirSync(FULLRES_DIR)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .map((f) => path.join(FULLRES_DIR, f));
}
