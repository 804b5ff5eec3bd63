import { createHash } from 'node:crypto';
import { ErrorCode, InputError } from '../../src/errors.js';
import { EVENT_MARKER_NAME } from '../../src/results/answer.js';
import {
  imageIdFromKey,
  MAX_IMAGE_ID_LENGTH,
  MAX_RESULTS_PREFIX_BYTES,
  resultKeys,
} from '../../src/results/keys.js';

/** The 10-hex suffix imageIdFromKey appends when it had to change the key. */
const hash10 = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 10);
/** The 16-hex suffix of a shortened id. */
const hash16 = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

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

describe("imageIdFromKey on keys near S3's 1,024-byte limit", () => {
  it('keeps an id of exactly 512 characters as it is', () => {
    const rel = `${'a'.repeat(150)}/${'b'.repeat(150)}/${'c'.repeat(150)}/${'d'.repeat(59)}`;
    expect(rel.length).toBe(512);
    expect(imageIdFromKey(`uploads/${rel}`, 'uploads/')).toBe(rel);
  });

  it('shortens a 513-character id to its head + ~ + 16 hex digits (512 characters)', () => {
    const rel = `${'a'.repeat(150)}/${'b'.repeat(150)}/${'c'.repeat(150)}/${'d'.repeat(60)}`;
    const key = `uploads/${rel}`;
    // head: the first 512 - 17 = 495 characters: a*150 / b*150 / c*150 / d*42
    const id = imageIdFromKey(key, 'uploads/');
    expect(id).toBe(
      `${'a'.repeat(150)}/${'b'.repeat(150)}/${'c'.repeat(150)}/${'d'.repeat(42)}~${hash16(key)}`,
    );
    expect(id.length).toBe(MAX_IMAGE_ID_LENGTH);
  });

  it('cuts a segment longer than 200 characters to 183 + the 17-character suffix room', () => {
    const key = `uploads/${'x'.repeat(201)}.jpg`;
    expect(imageIdFromKey(key, 'uploads/')).toBe(`${'x'.repeat(183)}~${hash16(key)}`);
  });

  it("drops the empty, '.' or '..' segment a cut can leave", () => {
    // the head is cut at 512 - 17 = 495 characters
    const abc = `${'a'.repeat(150)}/${'b'.repeat(150)}/${'c'.repeat(150)}/`; // 453
    const tail = `/${'m'.repeat(40)}`;
    const cases = [
      [`${abc}${'d'.repeat(41)}/..b${tail}`, `${abc}${'d'.repeat(41)}`], // cut leaves ''
      [`${abc}${'d'.repeat(40)}/.b${tail}`, `${abc}${'d'.repeat(40)}`], // cut leaves '.'
      [`${abc}${'d'.repeat(39)}/..b${tail}`, `${abc}${'d'.repeat(39)}`], // cut leaves '..'
    ];
    for (const [rel, head] of cases) {
      const key = `uploads/${rel}`;
      expect(imageIdFromKey(key, 'uploads/')).toBe(`${head}~${hash16(key)}`);
    }
  });

  it('shortens a changed (unicode) key from its sanitised text, with the 16-digit hash', () => {
    // 'ë' is 2 bytes; NFKD makes it 'e' + U+0308 -> 'e_'; 340 of them: 680 characters
    const key = `uploads/${'ë'.repeat(100)}/${'ë'.repeat(100)}/${'ë'.repeat(100)}/${'ë'.repeat(40)}.jpg`;
    const id = imageIdFromKey(key, 'uploads/');
    // each segment is first cut to 100 by the sanitiser, then to 183 (no-op); the joined 403 fit
    expect(id).toBe(
      `${'e_'.repeat(50)}/${'e_'.repeat(50)}/${'e_'.repeat(50)}/${'e_'.repeat(40)}.jpg~${hash10(key)}`,
    );
    const many = `uploads/${Array.from({ length: 200 }, () => 'ë').join('/')}`; // 200 segments 'e_'
    expect(imageIdFromKey(many, 'uploads/')).toBe(
      `${Array.from({ length: 165 }, () => 'e_').join('/')}~${hash16(many)}`, // 165 x 3 = 495
    );
  });

  it('gives every 1,024-byte key result keys within 1,024 bytes, under the longest results prefix', () => {
    const prefix = `${'r'.repeat(MAX_RESULTS_PREFIX_BYTES - 1)}/`;
    const names = [
      'mask.png',
      'overlay.jpg',
      'result.json',
      'error.json',
      'report.fhir.json',
      EVENT_MARKER_NAME,
    ];
    const fill = (unit: string) => {
      let rel = '';
      while (Buffer.byteLength(`uploads/${rel}${unit}x`) <= 1024) rel += unit;
      return `uploads/${rel}x`;
    };
    for (const key of [
      fill('a'),
      fill('a/'),
      fill('ë'),
      fill('日本/'),
      fill('😀'),
      fill('\uFDFA'),
      fill('a b'),
    ]) {
      const keys = resultKeys(imageIdFromKey(key, 'uploads/'), prefix);
      for (const name of names) expect(Buffer.byteLength(`${keys.prefix}${name}`)).toBeLessThanOrEqual(1024);
    }
  });

  it('never shares an id between two long keys that differ only after the cut', () => {
    const a = `uploads/${'x'.repeat(600)}a.jpg`;
    const b = `uploads/${'x'.repeat(600)}b.jpg`;
    expect(imageIdFromKey(a, 'uploads/')).not.toBe(imageIdFromKey(b, 'uploads/'));
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
