import sharp from 'sharp';
import { countJpegScans, nextMarkerAfterScanData } from '../../src/image/jpeg-scans.js';
import { fullScanCount, longProgressiveJpeg } from '../helpers/hostile-jpeg.js';

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];
/** An SOS header of length 8 (1 component) and its 6 body bytes. */
const SOS = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00];

describe('nextMarkerAfterScanData', () => {
  it('skips stuffed 0xFF00 and RST0-7, and returns the last 0xFF of a fill run', () => {
    //                        0     1     2     3     4     5     6     7     8     9    10    11
    const data = b(0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0xff, 0xff, 0xc4);
    expect(nextMarkerAfterScanData(data, 0)).toBe(10);
  });

  it('returns -1 when the data runs to the end (a truncated scan)', () => {
    expect(nextMarkerAfterScanData(b(0x12, 0xff, 0x00, 0x34), 0)).toBe(-1);
    expect(nextMarkerAfterScanData(b(0x12, 0xff), 0)).toBe(-1);
  });
});

describe('countJpegScans', () => {
  it('is null for anything that does not start with SOI', () => {
    expect(countJpegScans(b())).toBeNull();
    expect(countJpegScans(b(0x89, 0x50, 0x4e, 0x47))).toBeNull();
  });

  it('counts SOS segments, stepping over segment bodies and entropy data that look like markers', () => {
    // an APP0 whose body holds FF DA (not a marker: inside a length), then 2 scans whose data
    // holds FF 00, FF D3 and fill bytes before the next marker
    const app0 = [0xff, 0xe0, 0x00, 0x06, 0xff, 0xda, 0xff, 0xda];
    const scan1 = [...SOS, 0x11, 0xff, 0x00, 0x22, 0xff, 0xd3, 0x33];
    const dht = [0xff, 0xff, 0xc4, 0x00, 0x04, 0xff, 0xda]; // fill byte, then a DHT holding FF DA
    const scan2 = [...SOS, 0xff, 0x00];
    expect(countJpegScans(b(...SOI, ...app0, ...scan1, ...dht, ...scan2, ...EOI))).toEqual({
      scans: 2,
      stoppedEarly: false,
    });
  });

  it('stops at EOI: bytes after it are not scans', () => {
    expect(countJpegScans(b(...SOI, ...SOS, 0x01, ...EOI, ...SOS, ...SOS))?.scans).toBe(1);
  });

  it('stops counting once past stopAfter', () => {
    const many = b(...SOI, ...Array.from({ length: 50 }, () => [...SOS, 0x00]).flat(), ...EOI);
    expect(countJpegScans(many)).toEqual({ scans: 50, stoppedEarly: false });
    expect(countJpegScans(many, 10)).toEqual({ scans: 11, stoppedEarly: true });
  });

  it('counts a truncated file as far as it goes', () => {
    expect(countJpegScans(b(...SOI, ...SOS, 0x01, 0x02))?.scans).toBe(1);
    expect(countJpegScans(b(...SOI, 0xff, 0xc4, 0x00))?.scans).toBe(0);
  });

  it('matches what encoders write: 1 scan baseline, 10 for libjpeg progressive, 2,082 for the hostile file', async () => {
    const img = sharp({ create: { width: 64, height: 48, channels: 3, background: '#c08060' } });
    expect(countJpegScans(await img.clone().jpeg().toBuffer())?.scans).toBe(1);
    expect(countJpegScans(await img.clone().jpeg({ progressive: true }).toBuffer())?.scans).toBe(10);
    const hostile = longProgressiveJpeg({ width: 64, height: 48 });
    expect(fullScanCount(3)).toBe(2082);
    expect(countJpegScans(hostile)?.scans).toBe(2082);
  });
});
