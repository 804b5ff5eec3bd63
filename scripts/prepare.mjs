// `npm ci` / `npm install` run this (package.json "prepare"): bundle the `lesion` CLI into
// dist/lesion-cli.mjs so `npx lesion` starts without a TypeScript loader. Tolerant by design:
// where the sources are absent (a Docker build stage that copied only package.json,
// package-lock.json and .npmrc) or esbuild is not installed (`npm ci --omit=dev`), it says so and
// exits 0; bin/lesion.js then runs the sources through tsx. A failed build is reported, not fatal.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { stdout } from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => stdout.write(`prepare: ${line}\n`);

function canResolve(name) {
  try {
    createRequire(path.join(root, 'package.json')).resolve(name);
    return true;
  } catch {
    return false;
  }
}

if (!existsSync(path.join(root, 'src', 'cli', 'main.ts'))) {
  say('no src/ here (e.g. a Docker build stage): the CLI bundle is not built');
} else if (!canResolve('esbuild') || !canResolve('tsx/esm/api')) {
  say('esbuild or tsx is not installed (e.g. npm ci --omit=dev): the CLI bundle is not built');
} else {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    const { buildCli, CLI_BUNDLE } = await import('./bundle.ts');
    await buildCli();
    say(`wrote ${path.relative(root, CLI_BUNDLE)} (npx lesion starts from it while it is newer than src/)`);
  } catch (e) {
    say(
      `building the CLI bundle failed, npx lesion will run the sources: ${e instanceof Error ? e.message : e}`,
    );
  }
}
