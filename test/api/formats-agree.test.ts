// The decoder's messages and the upload API agree on what can be uploaded: every type the API
// accepts is named readable, HEIC/HEIF is named by neither as readable (sharp here has no HEVC
// decoder) and both tell the uploader to export HEIC photos as JPEG.
import sharp from 'sharp';
import { ApiError } from '../../src/api/errors.js';
import { parseCreateRequest } from '../../src/api/handler.js';
import { UPLOAD_CONTENT_TYPES } from '../../src/api/types.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { ErrorCode, InputError } from '../../src/errors.js';
import { decodeImage } from '../../src/image/decode.js';
import { fixtures } from '../helpers/images.js';

const SIZE = { width: 256, height: 192 };

async function decodeError(bytes: Uint8Array): Promise<InputError> {
  try {
    await decodeImage(bytes, DEFAULT_CONFIG, SIZE);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('decoded');
}

function createError(contentType: string): ApiError {
  try {
    parseCreateRequest(
      {
        method: 'POST',
        path: '/analyses',
        headers: {},
        body: JSON.stringify({ contentType, contentLength: 10 }),
        caller: 'x',
      },
      1_000_000,
    );
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('readable formats: decoder and API agree', () => {
  it("names every type the API accepts in the decoder's not-an-image message, and not HEIF", async () => {
    // Act
    const e = await decodeError(Buffer.from('not an image at all'));

    // Assess
    expect(e.code).toBe(ErrorCode.UNSUPPORTED_FORMAT);
    // image/jpeg → jpeg, image/avif → avif, …
    for (const type of Object.keys(UPLOAD_CONTENT_TYPES))
      expect(e.message.toLowerCase()).toContain(type.slice('image/'.length));
    expect(e.message).not.toMatch(/HEIF/i);
    expect(e.message).toContain('export HEIC photos as JPEG');
  });

  it('refuses HEIC in the API with the same advice, and a HEIC file in the decoder', async () => {
    // Act
    const api = createError('image/heic');
    const decoder = await decodeError(fixtures.heicContainer());

    // Assess
    expect([api.statusCode, api.code]).toEqual([415, 'UNSUPPORTED_IMAGE_TYPE']);
    expect(api.message).toContain('export HEIC photos as JPEG');
    expect(decoder.code).toBe(ErrorCode.UNSUPPORTED_FORMAT);
    expect(decoder.message).toMatch(/HEIC.*export the photo as JPEG/);
  });

  it('decodes AVIF, which the API accepts', async () => {
    // Prepare
    const avif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#a0522d' } })
      .avif()
      .toBuffer();

    // Act
    const d = await decodeImage(avif, DEFAULT_CONFIG, SIZE);

    // Assess
    expect(Object.keys(UPLOAD_CONTENT_TYPES)).toContain('image/avif');
    expect(d.modelInput.width).toBe(256);
  });
});
