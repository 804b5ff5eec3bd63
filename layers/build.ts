/**
 * Builds the two Lambda layer folders the CDK stack deploys with `Code.fromAsset`:
 *
 *   layers/runtime/build/nodejs/node_modules/   onnxruntime-node + sharp (+ their runtime dependency closure),
 *                                               trimmed to ONE platform (linux-x64 glibc by default)
 *   layers/model/build/models/                  models/lesion-mtl.onnx + sidecar .json  →  /opt/models/
 *
 * Runs offline: it copies from the installed node_modules, it never downloads anything.
 * `npm run build:layers` (CLI) or `buildLayers()` (the CDK app calls it when the folders are missing).
 *
 * @example
 * // CLI
 * //   npm run build:layers                # both layers, linux-x64
 * //   npm run build:layers -- --only runtime
 * import { buildLayers } from './layers/build.js';
 * const result = buildLayers();
 * console.log(result.runtime.bytes, result.model.bytes);
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root (this file sits in layers/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Lambda's hard limit for the unzipped function code plus all its layers. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/** Packages the handler marks external because this layer provides them. */
export const RUNTIME_LAYER_ROOTS = ['onnxruntime-node', 'sharp'] as const;

/** Model files the model layer carries (relative to the models folder). */
export const MODEL_FILES = ['lesion-mtl.onnx', 'lesion-mtl.json'] as const;

/**
 * Dependencies a package declares but needs only at install time. onnxruntime-node's
 * postinstall uses adm-zip/global-agent to download GPU providers; at runtime it only
 * requires onnxruntime-common and its own prebuilt binary.
 */
const INSTALL_ONLY_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  'onnxruntime-node': ['adm-zip', 'global-agent'],
};

/** Package sub-folders that are never loaded at runtime. */
const DROP_PACKAGE_DIRS: Readonly<Record<string, readonly string[]>> = {
  'onnxruntime-node': ['lib', 'script'], // TypeScript sources + install scripts
  sharp: ['src', 'install'], // C++ sources + build-from-source helper
};

/** Files never loaded at runtime (licences are kept). */
const DROP_FILE =
  /(\.map|\.d\.ts|\.d\.mts|\.d\.cts|\.ts|\.md|\.markdown|\.cc|\.cpp|\.c|\.h|\.hpp|\.gyp|\.gypi)$/i;

export type LayerArch = 'x64' | 'arm64';
export type LayerName = 'runtime' | 'model';

export interface BuildLayersOptions {
  /** Repository root holding node_modules/ and models/. @default REPO_ROOT */
  readonly root?: string;
  /** Where `runtime/build` and `model/build` go. @default `<root>/layers` */
  readonly outDir?: string;
  /** Folder with lesion-mtl.onnx and lesion-mtl.json. @default `<root>/models` */
  readonly modelsDir?: string;
  /** CPU architecture of the Lambda function; binaries for every other platform are dropped. @default 'x64' */
  readonly arch?: LayerArch;
  /** Which layers to build. @default ['runtime', 'model'] */
  readonly only?: readonly LayerName[];
  /** Progress messages. @default no output */
  readonly log?: (message: string) => void;
}

export interface LayerBuild {
  /** The folder handed to `Code.fromAsset` (its content lands under /opt). */
  readonly dir: string;
  /** Unzipped size in bytes. */
  readonly bytes: number;
  readonly files: number;
}

export interface BuildLayersResult {
  readonly runtime?: LayerBuild & { readonly packages: readonly string[] };
  readonly model?: LayerBuild;
}

/** Thrown when a layer cannot be built (missing package, missing model, ...). */
export class LayerBuildError extends Error {
  override readonly name = 'LayerBuildError';
}

/** The two folders the stack reads, for a given layers directory. */
export function layerDirs(outDir: string = path.join(REPO_ROOT, 'layers')): Record<LayerName, string> {
  return { runtime: path.join(outDir, 'runtime', 'build'), model: path.join(outDir, 'model', 'build') };
}

/** True when both layer folders exist and look complete (the stack can synthesize without a build). */
export function layersBuilt(outDir?: string): boolean {
  const dirs = layerDirs(outDir);
  return (
    fs.existsSync(path.join(dirs.runtime, 'nodejs', 'node_modules', 'onnxruntime-node', 'package.json')) &&
    fs.existsSync(path.join(dirs.runtime, 'nodejs', 'node_modules', 'sharp', 'package.json')) &&
    MODEL_FILES.every((f) => fs.existsSync(path.join(dirs.model, 'models', f)))
  );
}

/** Total size in bytes and file count of a folder (what Lambda counts once unzipped). */
export function dirStats(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
      files += 1;
    }
  }
  return { bytes, files };
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly libc?: readonly string[];
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Node's lookup: `<from>/node_modules/<name>`, then each parent, up to (and including) `root`. */
function resolvePackageDir(name: string, from: string, root: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.resolve(dir) === path.resolve(root)) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Lambda = Linux, glibc (Amazon Linux 2023), the chosen CPU. */
function matchesTarget(pkg: PackageJson, arch: LayerArch): boolean {
  const ok = (list: readonly string[] | undefined, value: string): boolean =>
    !list || list.length === 0 || (list.includes(value) && !list.includes(`!${value}`));
  return ok(pkg.os, 'linux') && ok(pkg.cpu, arch) && ok(pkg.libc, 'glibc');
}

/**
 * The runtime dependency closure of `roots`: package name → installed folder. Required
 * dependencies must be installed; optional ones are kept only when installed AND built for the
 * target (this is what drops sharp's 20-odd other-platform binaries).
 */
export function runtimeClosure(
  roots: readonly string[],
  root: string,
  arch: LayerArch,
): Map<string, { dir: string; pkg: PackageJson }> {
  const found = new Map<string, { dir: string; pkg: PackageJson }>();
  const visit = (name: string, from: string, optional: boolean): void => {
    const dir = resolvePackageDir(name, from, root);
    if (!dir) {
      if (optional) return;
      throw new LayerBuildError(
        `runtime layer: package '${name}' (needed from ${path.relative(root, from) || '.'}) is not installed; run \`npm ci\``,
      );
    }
    const key = path.relative(root, dir);
    if (found.has(key)) return;
    const pkg = readPackageJson(dir);
    if (optional && !matchesTarget(pkg, arch)) return;
    found.set(key, { dir, pkg });
    const skip = new Set(INSTALL_ONLY_DEPENDENCIES[pkg.name] ?? []);
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (!skip.has(dep)) visit(dep, dir, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) if (!skip.has(dep)) visit(dep, dir, true);
  };
  for (const name of roots) visit(name, root, false);
  return found;
}

function copyPackage(src: string, dest: string, pkgName: string, arch: LayerArch): void {
  const dropDirs = new Set((DROP_PACKAGE_DIRS[pkgName] ?? []).map((d) => path.join(src, d)));
  const ortBin = path.join(src, 'bin', 'napi-v6');
  const keepBin = path.join(ortBin, 'linux', arch);
  fs.cpSync(src, dest, {
    recursive: true,
    filter: (file) => {
      if (file === src) return true;
      const rel = path.relative(src, file);
      if (rel.split(path.sep)[0] === 'node_modules') return false; // nested deps are copied on their own
      if (dropDirs.has(file)) return false;
      // onnxruntime-node ships 5 platforms (~288 MB); keep only linux/<arch>.
      if (pkgName === 'onnxruntime-node' && file.startsWith(ortBin + path.sep)) {
        return keepBin.startsWith(file) || file.startsWith(keepBin);
      }
      const base = path.basename(file);
      if (/^(license|licence|notice|third[-_]party)/i.test(base)) return true;
      return !(fs.statSync(file).isFile() && DROP_FILE.test(base));
    },
  });
}

function buildRuntimeLayer(
  root: string,
  outDir: string,
  arch: LayerArch,
  log: (m: string) => void,
): LayerBuild & { packages: string[] } {
  const dir = layerDirs(outDir).runtime;
  const closure = runtimeClosure(RUNTIME_LAYER_ROOTS, root, arch);
  fs.rmSync(dir, { recursive: true, force: true });
  const nodeModules = path.join(dir, 'nodejs', 'node_modules');
  const rootModules = path.join(root, 'node_modules');
  const packages: string[] = [];
  for (const { dir: pkgDir, pkg } of closure.values()) {
    const rel = path.relative(rootModules, pkgDir); // keeps nesting such as sharp/node_modules/semver
    copyPackage(pkgDir, path.join(nodeModules, rel), pkg.name, arch);
    packages.push(`${rel}@${pkg.version}`);
  }
  const binary = path.join(nodeModules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', arch);
  if (!fs.existsSync(path.join(binary, 'onnxruntime_binding.node'))) {
    throw new LayerBuildError(`runtime layer: onnxruntime-node has no linux/${arch} binary in node_modules`);
  }
  if (!fs.readdirSync(path.join(nodeModules, '@img')).some((d) => d === `sharp-linux-${arch}`)) {
    throw new LayerBuildError(
      `runtime layer: @img/sharp-linux-${arch} is not installed; run \`npm install --os=linux --cpu=${arch} sharp\``,
    );
  }
  fs.writeFileSync(
    path.join(dir, 'nodejs', 'layer-manifest.json'),
    JSON.stringify(
      { layer: 'lesion-runtime', platform: `linux-${arch}-glibc`, packages: packages.sort() },
      null,
      2,
    ),
  );
  const stats = dirStats(dir);
  log(`runtime layer: ${packages.length} packages, ${(stats.bytes / 2 ** 20).toFixed(1)} MiB → ${dir}`);
  return { dir, ...stats, packages };
}

function buildModelLayer(modelsDir: string, outDir: string, log: (m: string) => void): LayerBuild {
  const missing = MODEL_FILES.filter((f) => !fs.existsSync(path.join(modelsDir, f)));
  if (missing.length > 0) {
    throw new LayerBuildError(
      `model layer: ${missing.map((f) => path.join(modelsDir, f)).join(', ')} not found; ` +
        'export the trained model first (training/lesion_mtl/export.py writes models/lesion-mtl.onnx + .json)',
    );
  }
  const dir = layerDirs(outDir).model;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  for (const f of MODEL_FILES) fs.copyFileSync(path.join(modelsDir, f), path.join(dir, 'models', f));
  const stats = dirStats(dir);
  log(`model layer: ${(stats.bytes / 2 ** 20).toFixed(1)} MiB → ${dir}`);
  return { dir, ...stats };
}

/** Build the layer folders. Throws LayerBuildError with a fix-it message when an input is missing. */
export function buildLayers(options: BuildLayersOptions = {}): BuildLayersResult {
  const root = options.root ?? REPO_ROOT;
  const outDir = options.outDir ?? path.join(root, 'layers');
  const arch = options.arch ?? 'x64';
  const only = new Set(options.only ?? ['runtime', 'model']);
  const log = options.log ?? ((): void => {});
  return {
    ...(only.has('runtime') ? { runtime: buildRuntimeLayer(root, outDir, arch, log) } : {}),
    ...(only.has('model')
      ? { model: buildModelLayer(options.modelsDir ?? path.join(root, 'models'), outDir, log) }
      : {}),
  };
}

function main(argv: readonly string[]): void {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const arch = get('--arch') ?? 'x64';
  if (arch !== 'x64' && arch !== 'arm64') throw new LayerBuildError(`--arch ${arch}: expected x64 or arm64`);
  const onlyArg = get('--only');
  if (onlyArg !== undefined && onlyArg !== 'runtime' && onlyArg !== 'model') {
    throw new LayerBuildError(`--only ${onlyArg}: expected runtime or model`);
  }
  const result = buildLayers({
    arch,
    ...(onlyArg ? { only: [onlyArg] } : {}),
    ...(get('--models') ? { modelsDir: path.resolve(get('--models') as string) } : {}),
    log: (m) => console.log(m),
  });
  const total = (result.runtime?.bytes ?? 0) + (result.model?.bytes ?? 0);
  console.log(
    `layers total ${(total / 2 ** 20).toFixed(1)} MiB of Lambda's ${LAMBDA_UNZIPPED_LIMIT_BYTES / 2 ** 20} MiB`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
