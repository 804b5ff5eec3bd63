// What `lesion analyze` reads: every named file and every image-named entry of a named folder,
// each checked on its own so one bad entry (a folder named x.jpg, a dangling link, a FIFO, a
// 3 GB file) answers with its own error and the run goes on.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, InputError, objectTooLarge } from '../errors.js';

export const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|gif|heic|heif|avif)$/i;

/** The input paths: named files as given, folders expanded to their image-named entries (sorted). */
export async function collectInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const s = await stat(input).catch(() => null); // a missing one is answered as an entry
    if (s?.isDirectory()) {
      const names = (await readdir(input)).filter((f) => IMAGE_EXT.test(f)).sort();
      files.push(...names.map((f) => path.join(input, f)));
    } else files.push(input);
  }
  return files;
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function unreadable(file: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  const missing = code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
  return new InputError(
    ErrorCode.OBJECT_NOT_FOUND,
    missing ? `${file} does not exist (or is a link to nothing).` : `${file} cannot be read (${code}).`,
    { cause: e },
  );
}

/**
 * The type and size checks of one entry, from its metadata only (nothing is opened): a non-file
 * is UNSUPPORTED_FORMAT, a link to nothing OBJECT_NOT_FOUND, a file above `maxBytes` TOO_LARGE.
 * Returns the file's size.
 */
export function checkEntry(file: string, s: Stats, maxBytes: number): number {
  if (!s.isFile())
    throw new InputError(ErrorCode.UNSUPPORTED_FORMAT, `${file} is ${kindOf(s)}, not an image file.`);
  if (s.size > maxBytes) throw objectTooLarge(s.size, maxBytes);
  return s.size;
}

/**
 * Read one input within `maxBytes`, or throw the InputError that answers it. The entry is
 * checked with stat before it is opened (a FIFO is never opened: that would block until a writer
 * comes), opened non-blocking, checked again on the open handle (it may have been swapped), and
 * read no further than `maxBytes`.
 */
export async function readInput(file: string, maxBytes: number): Promise<Buffer> {
  let s: Stats;
  try {
    s = await stat(file);
  } catch (e) {
    const link = await lstat(file).catch(() => null);
    if (link?.isSymbolicLink())
      throw new InputError(ErrorCode.OBJECT_NOT_FOUND, `${file} is a link to nothing (dangling).`, {
        cause: e,
      });
    throw unreadable(file, e);
  }
  checkEntry(file, s, maxBytes);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw unreadable(file, e);
  }
  try {
    const size = checkEntry(file, await handle.stat(), maxBytes);
    let buf = Buffer.alloc(size + 1); // one more byte tells a file that grew since stat
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) return buf.subarray(0, n);
      n += bytesRead;
      if (n > maxBytes) throw objectTooLarge(n, maxBytes);
      if (n === buf.length) buf = Buffer.concat([buf, Buffer.alloc(Math.min(n, maxBytes + 1 - n))]);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw unreadable(file, e);
  } finally {
    await handle.close();
  }
}
