/** Framework-free request/response: adapted from API Gateway (src/api/lambda.ts) and node:http (src/api/http-server.ts). */
export interface ApiRequest {
  readonly method: string;
  /** Path without query string, e.g. `/analyses/3f2a…`. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Decoded body text, or null when there is none. */
  readonly body: string | null;
  /**
   * The authenticated caller (src/api/owner.ts: `iam:<principal ARN>` or `jwt:<iss> <sub>`) from
   * the authoriser, never from a client header; null when there is none (requests are refused).
   */
  readonly caller: string | null;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Image types an upload may declare, with the key extension each gets. */
export const UPLOAD_CONTENT_TYPES = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/tiff': 'tiff',
  'image/avif': 'avif',
} as const;
export type UploadContentType = keyof typeof UPLOAD_CONTENT_TYPES;

/** Body of `POST /analyses`. */
export interface CreateAnalysisRequest {
  readonly contentType: UploadContentType;
  readonly contentLength: number;
  /** Accepted for client convenience; never stored (file names often carry patient names). */
  readonly fileName?: string;
}

/** 201 body of `POST /analyses`. */
export interface CreateAnalysisResponse {
  /**
   * The analysis id: a UUID, the `{id}` of `GET /analyses/{id}`. Not result.json's `image.id`
   * (the image id, derived from the upload key: `<analysis id>.<ext>`).
   */
  readonly id: string;
  readonly uploadKey: string;
  readonly upload: {
    readonly method: 'PUT';
    readonly url: string;
    /** Send exactly these headers with the PUT (and a body of exactly `contentLength` bytes). */
    readonly headers: Readonly<Record<string, string>>;
    readonly expiresAt: string;
  };
}

/** 200 body of `GET /analyses/{id}`. */
export interface AnalysisStatusResponse {
  /** The analysis id (see CreateAnalysisResponse.id). */
  readonly id: string;
  readonly status: 'pending' | 'completed' | 'failed';
  /** result.json, when completed. */
  readonly result?: unknown;
  /**
   * error.json's `error`, when failed. `retryable: false`: the image is unusable, ask for a new
   * one; `true`: a transient failure outlasted every delivery, a redrive may still complete it.
   */
  readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean };
  /** Presigned GET URLs, when completed. */
  readonly links?: { readonly mask: string; readonly overlay: string; readonly fhir: string };
  readonly linksExpireAt?: string;
}
