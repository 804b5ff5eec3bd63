/**
 * Counting a JPEG's scans from its markers, before any pixel is decoded. A progressive JPEG is
 * decoded scan by scan, and libjpeg walks every block of the image once per scan: a file of a
 * few kilobytes with thousands of (valid, or repeated) scans costs seconds to minutes of CPU.
 * Cameras and encoders write 1 (baseline) to ~10-20 scans (libjpeg's default progression: 10).
 */

/** Markers without a length field: TEM, RST0-7, SOI, EOI. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/**
 * Offset of the next marker after entropy-coded data starting at `from`: the first 0xFF that is
 * followed by neither 0x00 (a stuffed data byte), 0xFF (fill) nor RST0-7 (part of the scan).
 * Returns the offset of the marker's 0xFF, or -1 when the data runs to the end.
 */
export function nextMarkerAfterScanData(bytes: Uint8Array, from: number): number {
  let i = from;
  for (;;) {
    i = bytes.indexOf(0xff, i);
    if (i < 0 || i + 1 >= bytes.length) return -1;
    const next = bytes[i + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) i += 2;
    else if (next === 0xff)
      i += 1; // fill byte: the marker starts at the last 0xFF
    else return i;
  }
}

export interface JpegScanCount {
  /** Start-of-scan (SOS, 0xFFDA) segments read. */
  readonly scans: number;
  /** True when counting stopped at `stopAfter` (the file may hold more). */
  readonly stoppedEarly: boolean;
}

/**
 * Count the SOS segments of a JPEG by walking its marker segments, stopping once `stopAfter`
 * scans are exceeded. Returns null when `bytes` does not start with SOI. A truncated or malformed
 * file is counted as far as it can be read (the decoder reports the damage).
 *
 * @example
 * countJpegScans(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x12, 0xff, 0xd9])) // { scans: 1, stoppedEarly: false }
 */
export function countJpegScans(bytes: Uint8Array, stopAfter = Infinity): JpegScanCount | null {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let scans = 0;
  let i = 2;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) {
      // junk between segments (libjpeg warns and resyncs): skip to the next 0xFF
      const j = bytes.indexOf(0xff, i);
      if (j < 0) break;
      i = j;
      continue;
    }
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill bytes before a marker
      continue;
    }
    if (marker === 0xd9) break; // EOI
    if (marker === 0x00 || isStandalone(marker)) {
      i += 2;
      continue;
    }
    if (i + 3 >= bytes.length) break;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const end = i + 2 + length;
    if (marker === 0xda) {
      scans++;
      if (scans > stopAfter) return { scans, stoppedEarly: true };
      const next = nextMarkerAfterScanData(bytes, end);
      if (next < 0) break;
      i = next;
    } else i = end;
  }
  return { scans, stoppedEarly: false };
}
