// `npm start [folder] [--out dir]`: the whole pipeline on this machine, no AWS account.
// An embedded S3-compatible server on 127.0.0.1 receives the uploads; its ObjectCreated events
// go through the same batch core as the Lambda; results are copied to --out and listed.
// `npm start -- --serve [port]`: keep it running and serve the upload API (src/api/) on
// 127.0.0.1, processing uploads as they arrive.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatTable, RESULT_COLUMNS, resultRow, THRESHOLD_NOTE } from '../cli/table.js';
import { serveLocalPipeline } from './api.js';
import { PACKAGE_ROOT } from '../config.js';
import { ErrorCode } from '../errors.js';
import { RESULT_CONTENT_TYPES } from '../results/keys.js';
import { errorResult } from '../results/result.js';
import { folderSink } from '../results/write.js';
import { LocalPipeline } from './pipeline.js';
import { localKeyProblem } from './s3-server.js';

const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|gif|heic|heif|avif)$/i;

function parseArgs(argv: string[]): { input: string; out: string; serve: number | null } {
  let input = path.join(PACKAGE_ROOT, 'samples');
  let out = path.resolve('out/local');
  let serve: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') out = path.resolve(argv[++i] ?? out);
    else if (a === '--serve') {
      serve = 8080;
      if (/^\d+$/.test(argv[i + 1] ?? '')) serve = Number(argv[++i]);
      if (serve > 65535) throw new Error(`--serve ${serve}: not a TCP port`);
    } else if (a === '--help' || a === '-h') {
      console.log('usage: npm start -- [folder of images] [--out dir]   (default: the bundled samples/)');
      console.log(
        '       npm start -- --serve [port]                  (upload API on 127.0.0.1, default port 8080)',
      );
      process.exit(0);
    } else input = path.resolve(a);
  }
  return { input, out, serve };
}

/** Serve the upload API until Ctrl-C; uploads are processed as their notifications arrive. */
async function serve(port: number): Promise<void> {
  const pipeline = await LocalPipeline.start({ printEvents: (line) => console.log(`  ${line}`) });
  const api = await serveLocalPipeline(pipeline, {
    port,
    onError: (e) => console.error(`  error: ${(e as Error).message}`),
  });
  const info = pipeline.analyzer.modelInfo;
  console.log(
    `local S3 at ${pipeline.s3.endpoint} (bucket ${pipeline.bucket}; SigV4 verified as S3 does); model ${info.name} ${info.version} on ${info.executionProvider}`,
  );
  console.log(`upload API at ${api.url} (no authentication: loopback only). Try:`);
  console.log(
    `  curl -s -X POST ${api.url}/analyses -H 'content-type: application/json' -d '{"contentType":"image/jpeg","contentLength":12345}'`,
  );
  console.log('events that would be published to EventBridge:');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await api.close();
  await pipeline.stop();
}

async function main(): Promise<void> {
  const { input, out, serve: port } = parseArgs(process.argv.slice(2));
  if (port !== null) return serve(port);
  const files = (await readdir(input)).filter((f) => IMAGE_EXT.test(f)).sort();
  if (files.length === 0) throw new Error(`no images (${IMAGE_EXT.source}) in ${input}`);
  // Ctrl-C: exit through process.exit, so the local S3 server's temporary folder is removed
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const pipeline = await LocalPipeline.start({ printEvents: (line) => console.log(`  ${line}`) });
  console.log(
    `local S3 at ${pipeline.s3.endpoint} (bucket ${pipeline.bucket}); model ${pipeline.analyzer.modelInfo.name} ${pipeline.analyzer.modelInfo.version} on ${pipeline.analyzer.modelInfo.executionProvider}`,
  );
  try {
    const rows: string[][] = [RESULT_COLUMNS];
    let uploaded = 0;
    for (const f of files) {
      const key = `${pipeline.config.uploadsPrefix}${f}`;
      // a name the local server cannot store (S3 could) is answered here, and the run goes on
      const problem = localKeyProblem(key);
      if (problem) {
        const error = errorResult(
          // never uploaded: the row names the file as the user wrote it (its image id would be cut)
          { id: f, bucket: pipeline.bucket, key, bytes: null },
          {
            code: ErrorCode.KEY_REJECTED,
            message: `The file name cannot be used as a key in the local run (${problem}); rename the file.`,
            retryable: false,
          },
          pipeline.analyzer.modelInfo,
        );
        console.error(`not uploaded: ${f}: ${error.error.message}`);
        rows.push(resultRow(error, '-'));
        continue;
      }
      await pipeline.upload(key, await readFile(path.join(input, f)));
      uploaded++;
    }
    console.log(`uploaded ${uploaded} images; processing ${pipeline.pending} S3 notifications\n`);
    console.log('events that would be published to EventBridge:');
    await pipeline.drain();
    // the outputs as stored in the local S3 server, below --out as they are below the results prefix
    const sink = folderSink(out);
    const below = (key: string) => key.slice(pipeline.config.resultsPrefix.length);
    for (const o of pipeline.outcomes) {
      if (o.status !== 'ok' && o.status !== 'error') continue;
      const k = o.keys!;
      const names =
        o.status === 'ok' ? (['mask', 'overlay', 'result', 'fhir'] as const) : (['error'] as const);
      for (const name of names) {
        // the pipeline's own outputs: no size cap
        const body = await pipeline.store.get(pipeline.bucket, k[name], Number.MAX_SAFE_INTEGER);
        await sink.put(below(k[name]), body, RESULT_CONTENT_TYPES[name]);
      }
      const shown = path.relative(process.cwd(), sink.file(below(k[names[0]])));
      rows.push(resultRow(o.status === 'ok' ? o.result : o.error, shown));
    }
    console.log(`\n${formatTable(rows)}`);
    console.log(`\n${THRESHOLD_NOTE}`);
    console.log(
      `results (mask.png at original size, overlay.jpg, result.json, report.fhir.json) in ${path.relative(process.cwd(), out) || '.'}`,
    );
    if (pipeline.deadLetters.length > 0)
      console.log(`${pipeline.deadLetters.length} message(s) dead-lettered`);
  } finally {
    await pipeline.stop();
  }
}

main().catch((e) => {
  console.error(`lesion local run failed: ${(e as Error).message}`);
  if ((e as Error).cause) console.error(`  cause: ${String((e as Error).cause)}`);
  process.exit(1);
});
