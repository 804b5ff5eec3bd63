import { promisify } from 'node:util';
import { crc32, deflate } from 'node:zlib';
import type { Plane } from '../processing/mask.js';

const deflateAsync = promisify(deflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, body, crc]);
}

/** PNG scanlines of an 8-bit plane: filter byte 0 (none) then the row's bytes. */
export function scanlines(plane: Plane): Uint8Array {
  const { data, width, height } = plane;
  const rows = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) rows.set(data.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return rows;
}

/**
 * An 8-bit greyscale PNG written directly with zlib (deflate runs on the libuv pool, off the
 * event loop). Binary masks are long runs, so no filtering and a fast level lose little size
 * and cost a fraction of a general-purpose encode of a 12-megapixel mask.
 */
export async function encodeGreyPng(plane: Plane, level = 3): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(plane.width, 0);
  ihdr.writeUInt32BE(plane.height, 4);
  ihdr[8] = 8; // bit depth
  // bytes 9-12 stay 0: greyscale, deflate, filter method 0, no interlace
  const idat = await deflateAsync(scanlines(plane), { level });
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
