// Limits S3 itself enforces, in one place: the pipeline, the API, the local S3 server and the
// CDK validation all check against these.

/** A key's length in UTF-8 bytes. */
export const S3_MAX_KEY_BYTES = 1024;

/** How long a SigV4 presigned URL may be valid: 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
