/**
 * Image fixtures generated in the tests with sharp (and, for the malformed ones, by hand), so
 * no binary test files live in the repository.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { REPO_ROOT } from './model.js';

export const SAMPLES_DIR = path.join(REPO_ROOT, 'samples');

/** The bundled sample photos (samples/*.jpg). */
export function samplePaths(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .map((f) => path.join(SAMPLES_DIR, f));
}

export async function readSamples(): Promise<{ name: string; bytes: Buffer }[]> {
  return Promise.all(samplePaths().map(async (p) => ({ name: path.basename(p), bytes: await readFile(p) })));
}

/**
 * A skin-toned image with a dark blob (something lesion-like, with edges for JPEG to encode).
 * Deterministic: the same size always gives the same pixels.
 */
export function lesionLike(width: number, height: number): Sharp {
  const data = Buffer.alloc(width * height * 3);
  const cx = width / 2;
  const cy = height / 2;
  const r = Math.min(width, height) / 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      const ripple = ((x * 7 + y * 13) % 17) - 8;
      const i = 3 * (y * width + x);
      data[i] = (inside ? 90 : 220) + ripple;
      data[i + 1] = (inside ? 60 : 170) + ripple;
      data[i + 2] = (inside ? 50 : 150) + ripple;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

export const fixtures = {
  jpeg: (w = 160, h = 120) => lesionLike(w, h).jpeg({ quality: 90 }).toBuffer(),
  png: (w = 160, h = 120) => lesionLike(w, h).png().toBuffer(),
  greyscalePng: (w = 160, h = 120) => lesionLike(w, h).greyscale().toColourspace('b-w').png().toBuffer(),
  rgbaPng: (w = 160, h = 120) => lesionLike(w, h).ensureAlpha(0.5).png().toBuffer(),
  png16: (w = 160, h = 120) => lesionLike(w, h).toColourspace('rgb16').png().toBuffer(),
  cmykJpeg: (w = 160, h = 120) => lesionLike(w, h).toColourspace('cmyk').jpeg().toBuffer(),
  webp: (w = 160, h = 120) => lesionLike(w, h).webp().toBuffer(),
  tiff: (w = 160, h = 120) => lesionLike(w, h).tiff().toBuffer(),
  /** Stored landscape (w x h) with EXIF orientation 6: displayed as portrait h x w. */
  exifRotatedJpeg: (w = 160, h = 120, orientation = 6) =>
    lesionLike(w, h).jpeg().withMetadata({ orientation }).toBuffer(),
  /** A plain portrait photo (no EXIF). */
  portraitJpeg: (w = 120, h = 160) => lesionLike(w, h).jpeg().toBuffer(),
  tinyPng: () => lesionLike(1, 1).png().toBuffer(),
  /** 20:1 panorama. */
  panoramaPng: () => lesionLike(2000, 100).png().toBuffer(),
  animatedGif: () => animated('gif'),
  animatedWebp: () => animated('webp'),
  truncatedJpeg: async (fraction = 0.5) => {
    const full = await fixtures.jpeg(320, 240);
    return full.subarray(0, Math.floor(full.length * fraction));
  },
  /** Only the first bytes of a JPEG: the start-of-image marker, header cut short. */
  jpegHeaderOnly: async () => (await fixtures.jpeg()).subarray(0, 40),
  brokenCrcPng: async () => corruptIdat(await fixtures.png()),
  /** Pixel data intact, only the IDAT's stored CRC is wrong. */
  wrongCrcFieldPng: async () => wrongIdatCrc(await fixtures.png()),
  decompressionBombPng: (width = 30_000, height = 30_000) => bombPng(width, height),
  heicContainer: (width = 640, height = 480) => heicContainer(width, height),
  text: () => Buffer.from('patient notes: not an image\n'.repeat(20)),
  pdf: () =>
    Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  zip: () =>
    Buffer.concat([
      Buffer.from('504b0304140000000000', 'hex'),
      Buffer.alloc(20),
      Buffer.from('504b0506', 'hex'),
      Buffer.alloc(18),
    ]),
};

async function animated(format: 'gif' | 'webp'): Promise<Buffer> {
  const frames = await Promise.all(
    ['#c08070', '#a06050', '#804030'].map((c) =>
      sharp({ create: { width: 96, height: 72, channels: 3, background: c } })
        .png()
        .toBuffer(),
    ),
  );
  const joined = sharp(frames, { join: { animated: true } });
  return format === 'gif'
    ? joined.gif({ loop: 0, delay: 100 }).toBuffer()
    : joined.webp({ loop: 0, delay: 100 }).toBuffer();
}

// ---- PNG by hand ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** Chunks of a PNG: type, offset of the chunk's length field, data length. */
export function pngChunks(png: Buffer): { type: string; offset: number; length: number }[] {
  const out: { type: string; offset: number; length: number }[] = [];
  for (let off = 8; off + 8 <= png.length;) {
    const length = png.readUInt32BE(off);
    out.push({ type: png.toString('ascii', off + 4, off + 8), offset: off, length });
    off += 12 + length;
  }
  return out;
}

/** Flip one byte inside the first IDAT's data: its CRC no longer matches. */
export function corruptIdat(png: Buffer): Buffer {
  const idat = pngChunks(png).find((c) => c.type === 'IDAT');
  if (!idat) throw new Error('no IDAT chunk');
  const out = Buffer.from(png);
  out[idat.offset + 8 + Math.floor(idat.length / 2)]! ^= 0xff;
  return out;
}

/** Flip a bit of the first IDAT's CRC field, leaving its data intact. */
export function wrongIdatCrc(png: Buffer): Buffer {
  const idat = pngChunks(png).find((c) => c.type === 'IDAT');
  if (!idat) throw new Error('no IDAT chunk');
  const out = Buffer.from(png);
  out[idat.offset + 8 + idat.length]! ^= 0x01;
  return out;
}

/**
 * A VALID 1-bit greyscale PNG of width x height, all black, whose zlib stream is built from one
 * compressed chunk repeated (each chunk ends with a full flush, so copies are independent):
 * 30000x30000 (900 MP, 2.7 GB as 8-bit RGB) fits in ~110 kB and takes milliseconds to write.
 */
export function bombPng(width: number, height: number): Buffer {
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed bits
  const rowsPerChunk = 100;
  if (height % rowsPerChunk !== 0) throw new Error(`height must be a multiple of ${rowsPerChunk}`);
  const chunk = zlib.deflateRawSync(Buffer.alloc(rowBytes * rowsPerChunk), {
    level: 9,
    finishFlush: zlib.constants.Z_FULL_FLUSH,
  });
  const total = rowBytes * height;
  const a = 1;
  const b = total % 65521; // adler32 of `total` zero bytes
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  const parts = [Buffer.from([0x78, 0xda])];
  for (let i = 0; i < height / rowsPerChunk; i++) parts.push(chunk);
  parts.push(Buffer.from([0x03, 0x00]), adler); // final empty fixed-Huffman block, then the checksum
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.concat(parts)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- HEIF container by hand ----

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, 'ascii');
  return Buffer.concat([head, body]);
}
function fullBox(type: string, version: number, ...parts: Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf[0] = version;
  return box(type, vf, ...parts);
}
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/**
 * A well-formed HEIC container (ftyp heic, one hvc1 primary item with hvcC + ispe) around a
 * placeholder HEVC payload: what an iPhone photo looks like to a decoder without HEVC support.
 * sharp's prebuilt libheif reads its header (format heif, compression hevc) but cannot decode it.
 */
export function heicContainer(width: number, height: number): Buffer {
  const ftyp = box('ftyp', Buffer.from('heic'), u32(0), Buffer.from('mif1heic'));
  const hdlr = fullBox('hdlr', 0, u32(0), Buffer.from('pict'), Buffer.alloc(12), Buffer.from([0]));
  const pitm = fullBox('pitm', 0, u16(1));
  const iinf = fullBox(
    'iinf',
    0,
    u16(1),
    fullBox('infe', 2, u16(1), u16(0), Buffer.from('hvc1'), Buffer.from([0])),
  );
  const hvcC = box(
    'hvcC',
    Buffer.from([
      1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 90, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0,
    ]),
  );
  const iprp = box(
    'iprp',
    box('ipco', hvcC, fullBox('ispe', 0, u32(width), u32(height))),
    fullBox('ipma', 0, u32(1), u16(1), Buffer.from([2, 0x81, 0x02])),
  );
  const payload = Buffer.from([0, 0, 0, 4, 0x26, 0x01, 0xaf, 0x00]);
  const iloc = (offset: number) =>
    fullBox(
      'iloc',
      0,
      Buffer.from([0x44, 0x00]),
      u16(1),
      u16(1),
      u16(0),
      u16(1),
      u32(offset),
      u32(payload.length),
    );
  const metaLength = fullBox('meta', 0, hdlr, pitm, iinf, iloc(0), iprp).length;
  const meta = fullBox('meta', 0, hdlr, pitm, iinf, iloc(ftyp.length + metaLength + 8), iprp);
  return Buffer.concat([ftyp, meta, box('mdat', payload)]);
}

/** Width, height, bit depth and colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA) from the IHDR. */
export function pngHeader(png: Uint8Array): {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
} {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.toString('latin1', 1, 4) !== 'PNG' || b.toString('latin1', 12, 16) !== 'IHDR')
    throw new Error('not a PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bitDepth: b[24]!, colourType: b[25]! };
}

/**
 * Decode a PNG to raw 8-bit pixels with its channel count as stored. (sharp's raw output turns
 * a greyscale PNG into 3 sRGB channels; the first one is taken back here.)
 */
export async function rawPng(
  png: Uint8Array,
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { channels = 0 } = await sharp(png).metadata();
  let img = sharp(png);
  if (channels === 1) img = img.extractChannel(0);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return {
    data,
    width: info.width,
    height: info.height,
    channels: channels === 1 ? info.channels : channels,
  };
}
