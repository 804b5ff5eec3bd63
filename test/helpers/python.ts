// The Python interpreter the training tests run (Debian's, with torch), and whether it can
// import what a test needs. Under CI a missing module is an error, not a skip: .ci/run installs them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const PYTHON = process.env.LESION_PYTHON ?? '/usr/bin/python3';

export async function pythonCanImport(modules: readonly string[]): Promise<boolean> {
  try {
    await promisify(execFile)(PYTHON, ['-c', `import ${modules.join(', ')}`]);
    return true;
  } catch {
    if (process.env.CI)
      throw new Error(`${PYTHON} cannot import ${modules.join('/')}: .ci/run must install them`);
    return false;
  }
}
