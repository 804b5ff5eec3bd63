// One esbuild recipe for Node entry points (the CLI bundle, the bench's cold-start script, and
// the container images' worker, health check and Lambda handler): ESM, node platform, the native
// packages (sharp, onnxruntime-node) left external so they resolve from node_modules, and a
// createRequire banner for bundled CommonJS dependencies.
//
// As a command (the Dockerfiles' build stage):
//   npx tsx scripts/bundle.ts <entry.ts> <outfile.mjs> [--target node22] [--sourcemap]
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Native packages no bundle contains: they resolve from node_modules (or the Lambda runtime layer). */
export const NATIVE_MODULES = ['onnxruntime-node', 'sharp'] as const;
/** package.json fields esbuild resolves, ESM first. */
export const MAIN_FIELDS = ['module', 'main'];
/** ESM bundles of CommonJS dependencies need a real `require`. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

export interface BundleOptions {
  /** esbuild target. @default 'node20' (the machines that run the CLI and the bench) */
  readonly target?: string;
  /** Write `<outfile>.map` and keep function names, for readable stack traces in production logs. @default false */
  readonly sourcemap?: boolean;
}

export async function bundleNodeEntry(
  entry: string,
  outfile: string,
  opts: BundleOptions = {},
): Promise<void> {
  const esbuild = await import('esbuild');
  await mkdir(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: opts.target ?? 'node20',
    mainFields: MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    external: [...NATIVE_MODULES],
    minify: true,
    sourcemap: opts.sourcemap ?? false,
    keepNames: opts.sourcemap ?? false,
    logLevel: 'silent',
  });
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The `lesion` CLI bundle that bin/lesion.js prefers while it is newer than src/. */
export const CLI_BUNDLE = path.join(ROOT, 'dist', 'lesion-cli.mjs');

export function buildCli(): Promise<void> {
  return bundleNodeEntry(path.join(ROOT, 'src', 'cli', 'main.ts'), CLI_BUNDLE);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { target: { type: 'string' }, sourcemap: { type: 'boolean' } },
  });
  if (positionals.length !== 2) {
    console.error('usage: tsx scripts/bundle.ts <entry.ts> <outfile.mjs> [--target node22] [--sourcemap]');
    process.exit(2);
  }
  await bundleNodeEntry(positionals[0]!, positionals[1]!, values);
  console.log(`wrote ${positionals[1]}`);
}
