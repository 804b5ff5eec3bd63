// The export's budget checks (training/lesion_mtl/export.py), which run before anything is written.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config.js';
import { PYTHON, pythonCanImport } from '../helpers/python.js';

const run = promisify(execFile);

const hasTorch = await pythonCanImport(['torch', 'torchvision', 'onnx']);
const maybe = hasTorch ? describe : describe.skip;

maybe('export budget', () => {
  test('a model over max_params is refused before Validation is read or a file is written', async () => {
    // A width-0.35 LesionMTL with the smoke decoder has far more than 1,000 parameters; the
    // splits are None, so reaching them would fail differently.
    const code = `
from lesion_mtl.model import LesionMTL
from lesion_mtl.export import export_model
net = LesionMTL(decoder_channels=(16, 16, 8, 8), width_mult=0.35)
export_model({"height": 96, "width": 128, "max_params": 1000}, net, None, None, None, None, {})`;
    const failure = run(PYTHON, ['-c', code], { cwd: path.join(PACKAGE_ROOT, 'training') });
    await expect(failure).rejects.toMatchObject({ stderr: expect.stringMatching(/^[\d,]+ parameters, over max_params=1,000$/m) });
  });
});
