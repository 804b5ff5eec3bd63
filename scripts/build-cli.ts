// `npm run build:cli`: bundle the `lesion` CLI into dist/lesion-cli.mjs. bin/lesion.js runs the
// bundle while it is newer than every file under src/ (no TypeScript loader at start-up:
// ~250 ms less per invocation), and falls back to the sources through tsx otherwise.
import path from 'node:path';
import { buildCli, CLI_BUNDLE } from './bundle.js';

await buildCli();
console.log(`wrote ${path.relative(process.cwd(), CLI_BUNDLE)}`);
