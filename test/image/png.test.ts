import sharp from 'sharp';
import { encodeGreyPng, scanlines } from '../../src/image/png.js';
import { pngHeader } from '../helpers/images.js';

describe('scanlines', () => {
  it('prefixes each row with filter byte 0', () => {
    const rows = scanlines({ data: Uint8Array.of(1, 2, 3, 4, 5, 6), width: 3, height: 2 });
    expect([...rows]).toEqual([0, 1, 2, 3, 0, 4, 5, 6]);
  });
});

describe('encodeGreyPng', () => {
  it('writes an 8-bit greyscale PNG that libvips decodes to the same bytes (CRCs checked)', async () => {
    const width = 37;
    const height = 23;
    const data = Uint8Array.from({ length: width * height }, (_, i) => (i * 7919) % 256);
    const png = await encodeGreyPng({ data, width, height });
    expect(pngHeader(png)).toEqual({ width, height, bitDepth: 8, colourType: 0 });
    const raw = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(raw.info).toMatchObject({ width, height, channels: 1 });
    expect(Buffer.compare(raw.data, Buffer.from(data))).toBe(0);
  });

  it('is rejected by the decoder when a byte of the image data is flipped (the CRC covers it)', async () => {
    const png = await encodeGreyPng({ data: new Uint8Array(64).fill(255), width: 8, height: 8 });
    const broken = Buffer.from(png);
    const idat = broken.indexOf('IDAT', 0, 'latin1');
    broken[idat + 6] = broken[idat + 6]! ^ 0xff;
    await expect(sharp(broken).raw().toBuffer()).rejects.toThrow();
  });
});
