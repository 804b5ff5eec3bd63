import { jest } from '@jest/globals';
import { pythonCanImport, skipNotice } from './python.js';

describe('a training test skipped for want of Python modules', () => {
  it('says so on stderr: the file, the modules, the import error and how to fix it', async () => {
    if (process.env.CI) {
      await expect(pythonCanImport(['no_such_module_xyz'])).rejects.toThrow(/\.ci\/run must install them/);
      return;
    }
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await pythonCanImport(['no_such_module_xyz'])).toBe(false);
      const printed = write.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain('*** SKIPPED test/helpers/python-skip.test.ts:');
      expect(printed).toContain(
        "cannot import no_such_module_xyz (ModuleNotFoundError: No module named 'no_such_module_xyz')",
      );
      expect(printed).toContain('apt-get install python3-torch');
    } finally {
      write.mockRestore();
    }
  });

  it('names the file and modules in the notice', () => {
    expect(skipNotice('test/training/x.test.ts', ['torch', 'onnx'], 'why')).toMatch(
      /^\n\*\*\* SKIPPED test\/training\/x\.test\.ts: .* cannot import torch, onnx \(why\)\.\n/,
    );
  });
});
