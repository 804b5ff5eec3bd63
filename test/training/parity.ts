import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createLesionSession } from '../../src/inference/session.js';
import { loadModelFiles } from '../../src/model/contract.js';

export interface ParityReport {
  readonly cases: number;
  readonly maxScoreDiff: number;
  readonly maxOodRelDiff: number;
  /** cases whose OOD score was compared: 0 when the model has no ood_score output */
  readonly oodCases: number;
  readonly minMaskAgreement: number;
}

interface ParityCase {
  id: string;
  image: string;
  mask: string;
  scores: number[];
  oodScore: number;
}

/**
 * Run the exported ONNX model in onnxruntime-node on the exact uint8 inputs the PyTorch export
 * saved (lossless PNG) and compare with PyTorch's outputs for them.
 */
export async function checkParity(modelPath: string, parityDir: string): Promise<ParityReport> {
  const model = await loadModelFiles(modelPath);
  const session = await createLesionSession(model, { executionProvider: 'cpu', intraOpThreads: 1 });
  const spec = JSON.parse(await readFile(path.join(parityDir, 'parity.json'), 'utf8')) as { cases: ParityCase[] };
  let maxScoreDiff = 0;
  let maxOodRelDiff = 0;
  let minMaskAgreement = 1;
  let oodCases = 0;
  try {
    for (const c of spec.cases) {
      const { data, info } = await sharp(path.join(parityDir, c.image)).raw().toBuffer({ resolveWithObject: true });
      const out = await session.run(new Uint8Array(data), 1);
      c.scores.forEach((s, i) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(s - out.scores[i]!))));
      if (out.oodScore) {
        oodCases++;
        maxOodRelDiff = Math.max(maxOodRelDiff, Math.abs(c.oodScore - out.oodScore[0]!) / Math.max(1e-6, Math.abs(c.oodScore)));
      }
      const ref = await sharp(path.join(parityDir, c.mask)).extractChannel(0).raw().toBuffer();
      let agree = 0;
      for (let i = 0; i < ref.length; i++) if (ref[i]! > 128 === out.mask[i]! > 0) agree++;
      minMaskAgreement = Math.min(minMaskAgreement, agree / (info.width * info.height));
    }
  } finally {
    await session.dispose();
  }
  return { cases: spec.cases.length, maxScoreDiff, maxOodRelDiff, oodCases, minMaskAgreement };
}
