import { ErrorCode, InputError, MessageError } from '../errors.js';

/** S3 event notifications URL-encode keys with '+' for spaces. */
export function decodeS3EventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (cause) {
    throw new InputError(ErrorCode.KEY_REJECTED, `The object key '${raw}' is not valid URL encoding.`, {
      cause,
    });
  }
}

/** One uploaded object named by an S3 ObjectCreated notification. */
export interface UploadRef {
  readonly bucket: string;
  /** Decoded key (S3 events URL-encode keys). */
  readonly key: string;
  readonly size: number | null;
  /** ETag of the uploaded version (the notification's `eTag`): the version the answer must name. */
  readonly uploadETag: string | null;
}

interface S3NotificationRecord {
  eventSource?: string;
  eventName?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string } };
}

/**
 * Parse an SQS message body holding an S3 event notification into upload references.
 * S3's `s3:TestEvent` (sent when a notification is configured) yields no uploads.
 * Throws MessageError for anything else that is not an S3 notification, including a key that is
 * not valid URL encoding (S3 never sends one: such a message was written by hand).
 *
 * @example
 * parseS3Notification('{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"uploads/a+b.jpg","size":10}}}]}')
 */
export function parseS3Notification(body: string): UploadRef[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new MessageError(`The queue message is not JSON (${body.length} bytes).`, { cause });
  }
  const obj = parsed as { Records?: unknown; Event?: string };
  if (obj && obj.Event === 's3:TestEvent') return [];
  if (!obj || !Array.isArray(obj.Records)) {
    throw new MessageError('The queue message is not an S3 event notification (no Records array).');
  }
  const refs: UploadRef[] = [];
  for (const [i, r] of (obj.Records as S3NotificationRecord[]).entries()) {
    if (r?.eventSource !== 'aws:s3' || !r.eventName?.startsWith('ObjectCreated')) continue;
    const bucket = r.s3?.bucket?.name;
    const rawKey = r.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof rawKey !== 'string' || bucket === '' || rawKey === '') {
      throw new MessageError(`Record ${i} of the S3 notification has no bucket name or object key.`);
    }
    let key: string;
    try {
      key = decodeS3EventKey(rawKey);
    } catch (cause) {
      if (!(cause instanceof InputError)) throw cause;
      throw new MessageError(`Record ${i} of the S3 notification: ${cause.message}`, { cause });
    }
    refs.push({
      bucket,
      key,
      size: typeof r.s3?.object?.size === 'number' ? r.s3.object.size : null,
      uploadETag: typeof r.s3?.object?.eTag === 'string' ? r.s3.object.eTag : null,
    });
  }
  return refs;
}
