import { createHash } from 'node:crypto';
import { ErrorCode, InputError } from '../../../src/errors.js';
import { decodeS3EventKey, imageIdFromKey, resultKeys } from '../../../src/storage/keys.js';

/** The 10-hex suffix imageIdFromKey appends when it had to change the key. */
const hash10 = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 10);

describe('decodeS3EventKey', () => {
  it("decodes '+' as a space and %XX escapes", () => {
    // '+' → ' ', then %2B → '+'
    expect(decodeS3EventKey('a+b%2Bc.jpg')).toBe('a b+c.jpg');
  });

  it('decodes UTF-8 escapes', () => {
    expect(decodeS3EventKey('uploads/Pati%C3%ABnt+1.jpg')).toBe('uploads/Patiënt 1.jpg');
  });

  it('rejects invalid escapes with KEY_REJECTED', () => {
    expect(() => decodeS3EventKey('uploads/%E0%A4%A.jpg')).toThrow(
      expect.objectContaining({ code: ErrorCode.KEY_REJECTED, retryable: false }),
    );
  });
});

describe('imageIdFromKey', () => {
  it('keeps a plain key as its id (no hash)', () => {
    expect(imageIdFromKey('uploads/ISIC_0000000.jpg', 'uploads/')).toBe('ISIC_0000000.jpg');
    expect(imageIdFromKey('uploads/clinic-1/ISIC_1.jpg', 'uploads/')).toBe('clinic-1/ISIC_1.jpg');
  });

  it('sanitises spaces and unicode and appends a hash of the original key', () => {
    // NFKD splits ë into e + U+0308, and each character outside [A-Za-z0-9._-] becomes '_'
    const key = 'uploads/Patiënt 1/naevus 2.jpg';
    expect(imageIdFromKey(key, 'uploads/')).toBe(`Patie_nt_1/naevus_2.jpg~${hash10(key)}`);
  });

  it("neutralises '..' and '.' segments", () => {
    const key = 'uploads/../../etc/./passwd';
    expect(imageIdFromKey(key, 'uploads/')).toBe(`_/_/etc/_/passwd~${hash10(key)}`);
  });

  it('drops empty segments and leading dots of sanitised segments', () => {
    const key = 'uploads/a//.hidden file';
    expect(imageIdFromKey(key, 'uploads/')).toBe(`a/_hidden_file~${hash10(key)}`);
  });

  it('never gives a kept key the id of a changed one (the suffix uses a character kept keys cannot have)', () => {
    // 'a b.jpg' becomes 'a_b.jpg~<hash>'; uploading a key spelled like that id must not share its results
    const changed = imageIdFromKey('uploads/a b.jpg', 'uploads/');
    expect(changed).toBe(`a_b.jpg~${hash10('uploads/a b.jpg')}`);
    const lookalike = imageIdFromKey(`uploads/${changed}`, 'uploads/');
    expect(lookalike).not.toBe(changed);
    expect(imageIdFromKey(`uploads/a_b.jpg-${hash10('uploads/a b.jpg')}`, 'uploads/')).not.toBe(changed);
  });

  it('gives different ids to keys that sanitise to the same text', () => {
    expect(imageIdFromKey('uploads/a b.jpg', 'uploads/')).not.toBe(
      imageIdFromKey('uploads/a_b.jpg', 'uploads/'),
    );
    expect(imageIdFromKey('uploads/a b.jpg', 'uploads/')).not.toBe(
      imageIdFromKey('uploads/a?b.jpg', 'uploads/'),
    );
  });

  it.each([
    ['outside the prefix', 'results/x/result.json'],
    ['the prefix itself', 'uploads/'],
    ['a folder (trailing slash)', 'uploads/clinic/'],
    ['a look-alike prefix', 'uploads-old/a.jpg'],
  ])('rejects a key %s with KEY_REJECTED', (_what, key) => {
    let caught: unknown;
    try {
      imageIdFromKey(key, 'uploads/');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect(caught).toMatchObject({ code: ErrorCode.KEY_REJECTED, retryable: false });
    expect((caught as Error).message).toContain(key);
  });
});

describe('resultKeys', () => {
  it('places every output under <resultsPrefix><id>/', () => {
    expect(resultKeys('clinic/ISIC_1.jpg', 'results/')).toEqual({
      prefix: 'results/clinic/ISIC_1.jpg/',
      mask: 'results/clinic/ISIC_1.jpg/mask.png',
      overlay: 'results/clinic/ISIC_1.jpg/overlay.jpg',
      result: 'results/clinic/ISIC_1.jpg/result.json',
      error: 'results/clinic/ISIC_1.jpg/error.json',
      fhir: 'results/clinic/ISIC_1.jpg/report.fhir.json',
    });
  });
});
