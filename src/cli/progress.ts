/** A one-line progress bar on stderr (redrawn in place on a TTY, a line every 10 % otherwise). */
export function progressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): (done: number, total: number) => void {
  const start = Date.now();
  let lastDecile = -1;
  return (done, total) => {
    const frac = total > 0 ? done / total : 1;
    const secs = (Date.now() - start) / 1000;
    const eta = done > 0 ? (secs / done) * (total - done) : 0;
    const text = `${label} ${done}/${total} (${(frac * 100).toFixed(0)}%) ${secs.toFixed(0)}s elapsed, ~${eta.toFixed(0)}s left`;
    if (stream.isTTY) {
      const width = 24;
      const filled = Math.round(frac * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      if (done === total) stream.write('\n');
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== lastDecile || done === total) {
        lastDecile = decile;
        stream.write(`${text}\n`);
      }
    }
  };
}
