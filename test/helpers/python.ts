// The Python interpreter the training tests run (Debian's, with torch), and whether it can
// import what a test needs. Under CI a missing module is an error, not a skip: .ci/run installs them.
// A skip outside CI is said out loud on stderr (which test file, which modules, the import error).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export const PYTHON = process.env.LESION_PYTHON ?? '/usr/bin/python3';

/** The line printed when a test file skips for want of Python modules. */
export function skipNotice(testFile: string, modules: readonly string[], reason: string): string {
  return (
    `\n*** SKIPPED ${testFile}: ${PYTHON} cannot import ${modules.join(', ')} (${reason}).\n` +
    '*** Install them (apt-get install python3-torch python3-torchvision python3-onnx python3-numpy;\n' +
    '*** .ci/run does) or point LESION_PYTHON at an interpreter that has them. Under CI this fails.\n\n'
  );
}

export async function pythonCanImport(modules: readonly string[]): Promise<boolean> {
  try {
    await promisify(execFile)(PYTHON, ['-c', `import ${modules.join(', ')}`]);
    return true;
  } catch (e) {
    if (process.env.CI)
      throw new Error(`${PYTHON} cannot import ${modules.join('/')}: .ci/run must install them`);
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    const reason = stderr.split('\n').at(-1) || (e as Error).message;
    const testPath = expect.getState().testPath;
    const file = testPath ? path.relative(process.cwd(), testPath) : 'a training test';
    process.stderr.write(skipNotice(file, modules, reason));
    return false;
  }
}
