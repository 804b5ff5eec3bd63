import { ErrorCode, MessageError } from '../../src/errors.js';
import { decodeS3EventKey, parseS3Notification } from '../../src/service/events.js';

const record = (key: string, eventName = 'ObjectCreated:Put', extra: Record<string, unknown> = {}) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  awsRegion: 'eu-west-1',
  eventName,
  s3: { bucket: { name: 'lesion-uploads' }, object: { key, size: 1234, eTag: 'abc123', ...extra } },
});

describe('parseS3Notification', () => {
  it('returns one upload reference per ObjectCreated record', () => {
    const body = JSON.stringify({
      Records: [record('uploads/a.jpg'), record('uploads/b.png', 'ObjectCreated:CompleteMultipartUpload')],
    });
    expect(parseS3Notification(body)).toEqual([
      { bucket: 'lesion-uploads', key: 'uploads/a.jpg', size: 1234, uploadETag: 'abc123' },
      { bucket: 'lesion-uploads', key: 'uploads/b.png', size: 1234, uploadETag: 'abc123' },
    ]);
  });

  it('decodes URL-encoded keys', () => {
    const body = JSON.stringify({ Records: [record('uploads/Pati%C3%ABnt+1%2B2.jpg')] });
    expect(parseS3Notification(body)[0]!.key).toBe('uploads/Patiënt 1+2.jpg');
  });

  it('returns no uploads for the s3:TestEvent sent when a notification is configured', () => {
    expect(
      parseS3Notification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' })),
    ).toEqual([]);
  });

  it('skips records that are not ObjectCreated events from S3', () => {
    const body = JSON.stringify({
      Records: [
        record('uploads/gone.jpg', 'ObjectRemoved:Delete'),
        { ...record('uploads/x.jpg'), eventSource: 'aws:sqs' },
        record('uploads/ok.jpg'),
      ],
    });
    expect(parseS3Notification(body).map((r) => r.key)).toEqual(['uploads/ok.jpg']);
  });

  it('reports a missing size or ETag as null', () => {
    const r = record('uploads/a.jpg');
    const body = JSON.stringify({ Records: [{ ...r, s3: { ...r.s3, object: { key: 'uploads/a.jpg' } } }] });
    expect(parseS3Notification(body)[0]).toEqual({
      bucket: 'lesion-uploads',
      key: 'uploads/a.jpg',
      size: null,
      uploadETag: null,
    });
  });

  it('throws MessageError for a body that is not JSON, naming its length', () => {
    expect(() => parseS3Notification('not json {')).toThrow(MessageError);
    expect(() => parseS3Notification('not json {')).toThrow('not JSON (10 bytes)');
  });

  it.each([
    ['no Records array', '{"hello":"world"}'],
    ['Records not an array', '{"Records":{}}'],
    ['JSON null', 'null'],
    ['a JSON string', '"uploads/a.jpg"'],
  ])('throws MessageError for %s', (_what, body) => {
    expect(() => parseS3Notification(body)).toThrow(
      expect.objectContaining({ name: 'MessageError', code: 'MALFORMED_MESSAGE', retryable: false }),
    );
  });

  it('throws MessageError for a key that is not valid URL encoding (a hand-written message)', () => {
    const body = JSON.stringify({ Records: [record('uploads/100%.jpg')] });
    expect(() => parseS3Notification(body)).toThrow(
      expect.objectContaining({ name: 'MessageError', code: 'MALFORMED_MESSAGE', retryable: false }),
    );
    expect(() => parseS3Notification(body)).toThrow(
      "Record 0 of the S3 notification: The object key 'uploads/100%.jpg'",
    );
  });

  it('throws MessageError for a record without a key', () => {
    const body = JSON.stringify({ Records: [record('uploads/a.jpg'), record('')] });
    expect(() => parseS3Notification(body)).toThrow(
      'Record 1 of the S3 notification has no bucket name or object key.',
    );
  });
});

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
