import { existsSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config.js';
import { checkParity } from './parity.js';

const modelPath = path.join(PACKAGE_ROOT, 'models', 'lesion-mtl.onnx');
const parityDir = path.join(PACKAGE_ROOT, 'models', 'parity');

describe('shipped model: onnxruntime-node agrees with PyTorch', () => {
  it('on the Validation images saved at export (scores, OOD score, mask)', async () => {
    // Prepare
    expect(existsSync(modelPath)).toBe(true);
    // Act
    const r = await checkParity(modelPath, parityDir);
    // Assess
    expect(r.cases).toBeGreaterThanOrEqual(4);
    expect(r.maxScoreDiff).toBeLessThan(1e-3);
    expect(r.oodCases).toBe(r.cases); // the shipped model has the OOD gate
    expect(r.maxOodRelDiff).toBeLessThan(1e-3);
    expect(r.minMaskAgreement).toBeGreaterThan(0.999);
  });
});
