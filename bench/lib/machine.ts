import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { MachineInfo } from './types.js';

/** Version from a package's package.json under node_modules (their `exports` hide it from require). */
export function packageVersion(root: string, name: string): string | null {
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? null;
  } catch {
    return null;
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The facts a reader needs to compare two runs of the bench. */
export function machineInfo(root: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    logicalCores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: round2(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    onnxruntimeNode: packageVersion(root, 'onnxruntime-node') ?? 'unknown',
    onnxruntimeWeb: packageVersion(root, 'onnxruntime-web'),
    sharp: sharp.versions.sharp ?? packageVersion(root, 'sharp') ?? 'unknown',
    libvips: sharp.versions.vips,
    sharpConcurrency: sharp.concurrency(),
    date: new Date().toISOString(),
    loadAverageStart: os.loadavg().map(round2),
  };
}
