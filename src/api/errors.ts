/**
 * Errors of the HTTP API. Each carries the status code and a stable machine-readable `code`;
 * the body is always `{ "error": { "code", "message" } }`.
 */
export const ApiErrorCode = {
  INVALID_JSON: 'INVALID_JSON',
  INVALID_REQUEST: 'INVALID_REQUEST',
  INVALID_ID: 'INVALID_ID',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNSUPPORTED_IMAGE_TYPE: 'UNSUPPORTED_IMAGE_TYPE',
  IMAGE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  ANALYSIS_NOT_FOUND: 'ANALYSIS_NOT_FOUND',
  /** No authenticated caller (no authoriser in front of the API): nothing can be bound to one. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** `GET /analyses/{id}/report` of an analysis that is pending or failed. */
  ANALYSIS_NOT_COMPLETED: 'ANALYSIS_NOT_COMPLETED',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}
