/**
 * One base error for the whole library. `code` is machine-readable and lands in error.json;
 * `retryable` decides between SQS redelivery (transient) and a written error result (permanent).
 *
 * @example
 * try { await analyze(bytes) } catch (e) { if (isLesionError(e) && !e.retryable) writeErrorJson(e) }
 */
export const ErrorCode = {
  EMPTY_OBJECT: 'EMPTY_OBJECT',
  UNSUPPORTED_FORMAT: 'UNSUPPORTED_FORMAT',
  CORRUPT_IMAGE: 'CORRUPT_IMAGE',
  TOO_LARGE: 'TOO_LARGE',
  TOO_SMALL: 'TOO_SMALL',
  UNSUPPORTED_ASPECT_RATIO: 'UNSUPPORTED_ASPECT_RATIO',
  /** Decoding would cost too much: too many JPEG scans, or over the per-upload decode time budget. */
  DECODE_TOO_EXPENSIVE: 'DECODE_TOO_EXPENSIVE',
  OBJECT_NOT_FOUND: 'OBJECT_NOT_FOUND',
  MALFORMED_MESSAGE: 'MALFORMED_MESSAGE',
  KEY_REJECTED: 'KEY_REJECTED',
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  MESSAGING_UNAVAILABLE: 'MESSAGING_UNAVAILABLE',
  MODEL_LOAD_FAILED: 'MODEL_LOAD_FAILED',
  CONTRACT_MISMATCH: 'CONTRACT_MISMATCH',
  INFERENCE_FAILED: 'INFERENCE_FAILED',
  CONFIG_INVALID: 'CONFIG_INVALID',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export abstract class LesionError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

export type InputErrorCode =
  | typeof ErrorCode.EMPTY_OBJECT
  | typeof ErrorCode.UNSUPPORTED_FORMAT
  | typeof ErrorCode.CORRUPT_IMAGE
  | typeof ErrorCode.TOO_LARGE
  | typeof ErrorCode.TOO_SMALL
  | typeof ErrorCode.UNSUPPORTED_ASPECT_RATIO
  | typeof ErrorCode.DECODE_TOO_EXPENSIVE
  | typeof ErrorCode.OBJECT_NOT_FOUND
  | typeof ErrorCode.KEY_REJECTED;

/** The upload itself is unusable: permanent, answered with error.json, never retried. */
export class InputError extends LesionError {
  readonly retryable = false;
  constructor(
    readonly code: InputErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options);
  }
}

/** An SQS message we cannot parse: permanent; logged and dropped (there is no key to answer on). */
export class MessageError extends LesionError {
  readonly code = ErrorCode.MALFORMED_MESSAGE;
  readonly retryable = false;
}

/** S3 throttling, 5xx, timeouts: transient; the message goes back to the queue. */
export class StorageError extends LesionError {
  readonly code = ErrorCode.STORAGE_UNAVAILABLE;
  readonly retryable = true;
}

/** EventBridge or SQS throttling, 5xx, timeouts, a rejected event: transient; the message goes back to the queue. */
export class MessagingError extends LesionError {
  readonly code = ErrorCode.MESSAGING_UNAVAILABLE;
  readonly retryable = true;
}

/** The model file or its sidecar is missing, corrupt or does not match: fail at start-up. */
export class ModelLoadError extends LesionError {
  readonly retryable = false;
  constructor(
    readonly code: typeof ErrorCode.MODEL_LOAD_FAILED | typeof ErrorCode.CONTRACT_MISMATCH,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options);
  }
}

/** onnxruntime failed on a valid input: treated as transient (e.g. GPU memory pressure). */
export class InferenceError extends LesionError {
  readonly code = ErrorCode.INFERENCE_FAILED;
  readonly retryable = true;
}

export class ConfigError extends LesionError {
  readonly code = ErrorCode.CONFIG_INVALID;
  readonly retryable = false;
}

export function isLesionError(e: unknown): e is LesionError {
  return e instanceof LesionError;
}

/** TOO_LARGE for an object whose byte size exceeds the configured limit. */
export function objectTooLarge(bytes: number, maxBytes: number): InputError {
  const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return new InputError(
    ErrorCode.TOO_LARGE,
    `The upload is ${mb(bytes)} MB, above the ${mb(maxBytes)} MB limit.`,
    {
      details: { bytes, maxBytes },
    },
  );
}
