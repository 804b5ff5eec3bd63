#!/usr/bin/env node
// `lesion` CLI entry. Runs dist/lesion-cli.mjs (`npm run build:cli`) while that bundle is newer
// than every source file, else the TypeScript sources through tsx (no build step needed).
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/lesion-cli.mjs', import.meta.url));
const sources = fileURLToPath(new URL('../src/', import.meta.url));

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}${e.name}`;
    newest = Math.max(newest, e.isDirectory() ? newestSource(`${p}/`) : statSync(p).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs > newestSource(sources);
  } catch {
    return false;
  }
}

if (bundleIsFresh()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
