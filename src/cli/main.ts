// The `lesion` command: analyse files, or score the model on a dataset in ISIC 2017 layout.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type LesionConfig } from '../config.js';
import { isLesionError } from '../errors.js';
import { loadDataset, loadIsic2017Split, type EvalDataset } from '../eval/dataset.js';
import { evaluateDataset, type Predictor } from '../eval/evaluate.js';
import { formatMetricsTable, writeReports } from '../eval/report.js';
import { LesionAnalyzer } from '../pipeline/analyzer.js';
import { classify } from '../processing/classify.js';
import { RESULT_CONTENT_TYPES, resultKeys } from '../results/keys.js';
import { errorResult } from '../results/result.js';
import { folderSink, writeAnalysisOutputs, writeErrorOutput } from '../results/write.js';
import { collectInputs, readInput } from './inputs.js';
import { progressBar } from './progress.js';
import { formatTable, RESULT_COLUMNS, resultRow, THRESHOLD_NOTE } from './table.js';

const USAGE = `lesion — dermoscopic lesion segmentation + melanoma / seborrheic keratosis scores

usage:
  lesion analyze <files or folders…> [--out DIR] [--json]
  lesion eval --data DIR --split Validation|Test_v2 [--json] [--out DIR]
  lesion eval --images DIR [--masks DIR] [--labels CSV] [--json] [--out DIR]

common options:
  --model PATH        ONNX model (its sidecar PATH.json beside it)   [models/lesion-mtl.onnx]
  --provider P        execution provider: auto | cpu | cuda          [auto]
  --threads N         onnxruntime intra-op threads (0 = all cores)   [0]
eval options:
  --model-thresholds  sensitivity/specificity at the model's own thresholds instead of 0.5
  --concurrency N     images in flight                               [2]

exit status:
  0  every input was analysed (a withheld classification counts as analysed)
  1  some inputs were rejected: each has its error.json (a folder, a link to nothing, a pipe,
     a file above LESION_MAX_BYTES, a non-image, …); the others were analysed
  2  usage error: nothing was analysed
  3  the run failed (e.g. the model could not be loaded)
`;

/** Exit statuses (documented in USAGE and the README). */
export const EXIT = { OK: 0, SOME_REJECTED: 1, USAGE: 2, FAILED: 3 } as const;

function fail(message: string): never {
  process.stderr.write(`lesion: ${message}\n\n${USAGE}`);
  process.exit(EXIT.USAGE);
}

function configFrom(values: { model?: string; provider?: string; threads?: string }): LesionConfig {
  const env = { ...process.env };
  if (values.model) env.LESION_MODEL_PATH = values.model;
  if (values.provider) env.LESION_EXECUTION_PROVIDER = values.provider;
  if (values.threads) env.LESION_INTRA_OP_THREADS = values.threads;
  return loadConfig(env);
}

/** The image id of one input file (its output folder below --out): its base name, de-duplicated. */
function imageIdForFile(file: string, used: Set<string>): string {
  const base = path.basename(file).replace(/[^A-Za-z0-9._-]/g, '_');
  let imageId = base;
  for (let n = 2; used.has(imageId); n++) imageId = `${base}-${n}`;
  used.add(imageId);
  return imageId;
}

async function analyzeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string', default: 'out' },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
      provider: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (positionals.length === 0) fail('analyze needs at least one image file or folder');
  const files = await collectInputs(positionals);
  if (files.length === 0) fail('no images found');
  // outputs are written (and earlier ones replaced) under --out: no input may live there
  const outRoot = path.resolve(values.out) + path.sep;
  const inside = files.find((f) => path.resolve(f).startsWith(outRoot));
  if (inside)
    fail(`the input ${inside} lies inside --out ${values.out}: choose an output folder outside the inputs`);
  const config = configFrom(values);
  const analyzer = await LesionAnalyzer.create({ config });
  const progress = files.length > 1 && !values.json ? progressBar('analyzing') : () => {};
  let rejected = 0;
  const rows: string[][] = [RESULT_COLUMNS];
  const results: unknown[] = [];
  const used = new Set<string>();
  const sink = folderSink(values.out); // the FHIR report links each image by an absolute file: URL
  for (const [i, file] of files.entries()) {
    const imageId = imageIdForFile(file, used);
    const keys = resultKeys(imageId, ''); // <image id>/mask.png, …: paths below --out
    // a re-run replaces the earlier outputs: no stale result.json beside a new error.json
    // (only these names: the folder may hold anything else)
    const names = Object.keys(RESULT_CONTENT_TYPES) as (keyof typeof RESULT_CONTENT_TYPES)[];
    await Promise.all(names.map((name) => rm(sink.file(keys[name]), { force: true })));
    let bytes: Buffer | null = null;
    try {
      // type and LESION_MAX_BYTES checked before anything is read; a FIFO is never opened
      bytes = await readInput(file, config.maxBytes);
      const result = await writeAnalysisOutputs(
        sink,
        keys,
        await analyzer.analyze(bytes, { id: imageId, key: file }),
      );
      results.push(result);
      rows.push(resultRow(result, sink.file(keys.mask)));
    } catch (e) {
      if (!isLesionError(e)) throw e;
      rejected++;
      const error = errorResult(
        { id: imageId, bucket: null, key: file, bytes: bytes?.length ?? null },
        { code: e.code, message: e.message, retryable: e.retryable }, // true: run it again
        analyzer.modelInfo,
      );
      await writeErrorOutput(sink, keys, error);
      results.push(error);
      rows.push(resultRow(error, sink.file(keys.error)));
    }
    progress(i + 1, files.length);
  }
  await analyzer.dispose();
  if (values.json)
    process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
  else process.stdout.write(`${formatTable(rows)}\n\n${THRESHOLD_NOTE}\n`);
  if (rejected > 0) {
    process.stderr.write(`lesion: ${rejected} of ${files.length} inputs rejected (see their error.json)\n`);
    process.exitCode = EXIT.SOME_REJECTED;
  }
}

/** The real model as the evaluation engine's predictor: the same decode/infer/postprocess as serving. */
export function analyzerPredictor(analyzer: LesionAnalyzer): Predictor {
  return {
    async predict(imagePath, maskSize) {
      const decoded = await analyzer.decode(await readFile(imagePath));
      const [p] = await analyzer.infer([decoded]);
      const classes = classify(p!.scores, analyzer.contract.classes, analyzer.contract.outputs.scores.kind);
      const mask = maskSize ? analyzer.maskAt(p!, maskSize.width, maskSize.height).data : null;
      return {
        mask,
        probabilities: { melanoma: classes[0]!.probability, seborrheic_keratosis: classes[1]!.probability },
      };
    },
  };
}

async function evalCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      split: { type: 'string' },
      images: { type: 'string' },
      masks: { type: 'string' },
      labels: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string' },
      threads: { type: 'string' },
      'model-thresholds': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '2' },
    },
  });
  let dataset: EvalDataset;
  if (values.data) {
    if (!values.split) fail('--data needs --split (Training, Validation or Test_v2)');
    dataset = await loadIsic2017Split(values.data, values.split);
  } else if (values.images) {
    dataset = await loadDataset({ images: values.images, masks: values.masks, labels: values.labels });
  } else fail('eval needs --data DIR --split NAME, or --images DIR');
  const analyzer = await LesionAnalyzer.create({ config: configFrom(values) });
  const thresholds = values['model-thresholds']
    ? {
        melanoma: analyzer.contract.classes[0]!.threshold,
        seborrheic_keratosis: analyzer.contract.classes[1]!.threshold,
      }
    : undefined;
  const result = await evaluateDataset(dataset, analyzerPredictor(analyzer), {
    concurrency: Number(values.concurrency),
    thresholds,
    // progress always goes to stderr (stdout stays the table or pure JSON): a bar on a TTY, a
    // line every 10 % otherwise
    onProgress: progressBar(`scoring ${dataset.name}`),
  });
  await analyzer.dispose();
  if (values.json) process.stdout.write(JSON.stringify(result.metrics) + '\n');
  else {
    const m = analyzer.modelInfo;
    process.stdout.write(
      formatMetricsTable(
        result.metrics,
        `${dataset.name} — ${m.name} ${m.version} (${m.sha256.slice(0, 12)})`,
      ) + '\n',
    );
  }
  if (values.out) {
    const written = await writeReports(result, values.out);
    if (!values.json) process.stdout.write(`reports: ${Object.values(written).filter(Boolean).join(', ')}\n`);
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'analyze') return analyzeCommand(rest);
  if (command === 'eval') return evalCommand(rest);
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  fail(`unknown command '${command}' (expected analyze or eval)`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const err = e as Error;
  process.stderr.write(`lesion: ${err.message}\n`);
  if (isLesionError(e) && e.details && Object.keys(e.details).length > 0) {
    process.stderr.write(`  details: ${JSON.stringify(e.details)}\n`);
  }
  process.exit(EXIT.FAILED);
});
