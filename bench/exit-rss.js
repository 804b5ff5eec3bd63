/* global process */
// Preloaded with `node --import ./bench/exit-rss.js …` by `npm run bench`: reports the child's
// peak resident set size on exit, as one marked line on stderr. No other effect.
process.on('exit', () => {
  process.stderr.write(`BENCH_RSS ${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
});
