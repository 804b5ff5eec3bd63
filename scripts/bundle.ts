// One esbuild recipe for Node entry points (the CLI bundle, the bench's cold-start script):
// ESM, node platform, the native packages (sharp, onnxruntime-node) left external so they
// resolve from node_modules, and a createRequire banner for bundled CommonJS dependencies.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export async function bundleNodeEntry(entry: string, outfile: string): Promise<void> {
  const esbuild = await import('esbuild');
  await mkdir(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
    external: ['sharp', 'onnxruntime-node'],
    minify: true,
    logLevel: 'silent',
  });
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The `lesion` CLI bundle that bin/lesion.js prefers while it is newer than src/. */
export const CLI_BUNDLE = path.join(ROOT, 'dist', 'lesion-cli.mjs');

export function buildCli(): Promise<void> {
  return bundleNodeEntry(path.join(ROOT, 'src', 'cli', 'main.ts'), CLI_BUNDLE);
}
