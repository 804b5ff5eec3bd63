import { randomUUID } from 'node:crypto';
import { isLesionError } from '../errors.js';
import type { AnalysisResult, ErrorResult } from '../results/result.js';
import { buildFhirReport } from '../results/fhir.js';
import { answersUploadVersion } from '../results/answer.js';
import { imageIdFromKey, RESULT_CONTENT_TYPES, resultKeys, type ResultKeys } from '../results/keys.js';
import type { ApiConfig } from './config.js';
import { ApiError, ApiErrorCode } from './errors.js';
import { OWNER_HEADER, OWNER_METADATA, ownerTag } from './owner.js';
import type { AnalysisStorage } from './storage.js';
import {
  UPLOAD_CONTENT_TYPES,
  type AnalysisStatusResponse,
  type ApiRequest,
  type ApiResponse,
  type CreateAnalysisRequest,
  type CreateAnalysisResponse,
  type UploadContentType,
} from './types.js';

export interface ApiDeps {
  readonly storage: AnalysisStorage;
  readonly config: ApiConfig;
  /** @default crypto.randomUUID */
  readonly newAnalysisId?: () => string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Called with every 5xx cause (log it; the client only sees a generic message). */
  readonly onError?: (error: unknown, request: ApiRequest) => void;
}

/** Largest JSON body `POST /analyses` reads. */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024;
/** result.json / error.json above this size are not read (they are a few kB). */
const MAX_RESULT_JSON_BYTES = 1024 * 1024;
/** Suggested poll interval while an analysis is pending. */
const PENDING_RETRY_AFTER_SECONDS = '2';

/** Canonical UUID text (any version); ids are lower-cased before any key is built. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // bodies carry presigned URLs and health data: never cache them
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function errorResponse(e: ApiError): ApiResponse {
  return json(e.statusCode, { error: { code: e.code, message: e.message } }, { ...e.headers });
}

const isControlCharacter = (ch: string) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f;
const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/** Validate the `POST /analyses` body, reporting every problem at once. */
export function parseCreateRequest(req: ApiRequest, maxBytes: number): CreateAnalysisRequest {
  const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType && mediaType !== 'application/json') {
    throw new ApiError(
      415,
      ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Send the request body as application/json, not ${mediaType}.`,
    );
  }
  if (req.body === null || req.body.trim() === '') {
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_REQUEST,
      'The request body is empty; expected {"contentType", "contentLength"}.',
    );
  }
  if (Buffer.byteLength(req.body) > MAX_REQUEST_BODY_BYTES) {
    throw new ApiError(
      413,
      ApiErrorCode.REQUEST_TOO_LARGE,
      `The request body is above ${MAX_REQUEST_BODY_BYTES} bytes.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body);
  } catch {
    throw new ApiError(400, ApiErrorCode.INVALID_JSON, 'The request body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError(400, ApiErrorCode.INVALID_REQUEST, 'The request body must be a JSON object.');
  }
  const o = parsed as Record<string, unknown>;
  const problems: string[] = [];
  const unknown = Object.keys(o).filter((k) => !['contentType', 'contentLength', 'fileName'].includes(k));
  if (unknown.length > 0) problems.push(`unknown field(s): ${unknown.join(', ')}`);
  if (typeof o.contentType !== 'string' || o.contentType === '')
    problems.push('contentType must be a non-empty string');
  const len = o.contentLength;
  if (typeof len !== 'number' || !Number.isSafeInteger(len) || len < 1) {
    problems.push('contentLength must be a positive integer (the exact size of the image in bytes)');
  }
  if (o.fileName !== undefined) {
    const name = o.fileName;
    if (typeof name !== 'string' || name.length > 255 || [...name].some(isControlCharacter)) {
      problems.push('fileName must be a string of at most 255 characters without control characters');
    }
  }
  if (problems.length > 0)
    throw new ApiError(400, ApiErrorCode.INVALID_REQUEST, `Invalid request: ${problems.join('; ')}.`);
  const contentType = (o.contentType as string).trim().toLowerCase();
  if (!(contentType in UPLOAD_CONTENT_TYPES)) {
    throw new ApiError(
      415,
      ApiErrorCode.UNSUPPORTED_IMAGE_TYPE,
      `Images of type ${contentType} are not accepted; use one of ${Object.keys(UPLOAD_CONTENT_TYPES).join(', ')} ` +
        '(export HEIC photos as JPEG first).',
    );
  }
  if ((len as number) > maxBytes) {
    throw new ApiError(
      413,
      ApiErrorCode.IMAGE_TOO_LARGE,
      `The image is ${mb(len as number)} (${len} bytes), above the ${mb(maxBytes)} (${maxBytes} bytes) limit.`,
    );
  }
  return {
    contentType: contentType as UploadContentType,
    contentLength: len as number,
    ...(o.fileName !== undefined ? { fileName: o.fileName as string } : {}),
  };
}

/** The caller's owner tag; a request without an authenticated caller is refused (fail closed). */
function ownerOf(req: ApiRequest): string {
  if (req.caller === null || req.caller === '') {
    throw new ApiError(
      401,
      ApiErrorCode.UNAUTHENTICATED,
      'The request has no authenticated caller; call the API through its IAM or JWT authoriser.',
    );
  }
  return ownerTag(req.caller);
}

async function createAnalysis(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const { config, storage } = deps;
  const owner = ownerOf(req);
  const body = parseCreateRequest(req, config.maxBytes);
  const analysisId = (deps.newAnalysisId ?? randomUUID)().toLowerCase();
  if (!UUID.test(analysisId)) throw new Error(`newAnalysisId() returned a non-UUID '${analysisId}'`);
  const uploadKey = `${config.uploadsPrefix}${analysisId}.${UPLOAD_CONTENT_TYPES[body.contentType]}`;
  const now = (deps.now ?? (() => new Date()))();
  const url = await storage.presignUpload({
    bucket: config.uploadBucket,
    key: uploadKey,
    contentType: body.contentType,
    contentLength: body.contentLength,
    expiresIn: config.uploadUrlTtlSeconds,
    metadata: { [OWNER_METADATA]: owner },
  });
  const out: CreateAnalysisResponse = {
    id: analysisId,
    uploadKey,
    upload: {
      method: 'PUT',
      url,
      headers: { 'Content-Type': body.contentType, [OWNER_HEADER]: owner },
      expiresAt: new Date(now.getTime() + config.uploadUrlTtlSeconds * 1000).toISOString(),
    },
  };
  return json(201, out, { location: `/analyses/${analysisId}` });
}

/** The upload of an analysis: `uploads/<analysisId>.<ext>` with one of the accepted extensions. */
async function findUpload(
  analysisId: string,
  deps: ApiDeps,
): Promise<{ key: string; uploadETag: string } | null> {
  const { config } = deps;
  const exts = new Set<string>(Object.values(UPLOAD_CONTENT_TYPES));
  const prefix = `${config.uploadsPrefix}${analysisId}.`;
  const found = await deps.storage.list(config.uploadBucket, prefix);
  const upload = found.find((o) => o.key.startsWith(prefix) && exts.has(o.key.slice(prefix.length)));
  return upload ? { key: upload.key, uploadETag: upload.eTag } : null;
}

type AnalysisState =
  | { readonly analysisId: string; readonly status: 'pending' }
  | { readonly analysisId: string; readonly status: 'failed'; readonly error: ErrorResult['error'] }
  | {
      readonly analysisId: string;
      readonly status: 'completed';
      readonly result: AnalysisResult;
      readonly keys: ResultKeys;
    };

/** The state of the caller's analysis `rawAnalysisId`; 400 for a malformed id, 404 when not theirs or absent. */
async function loadAnalysis(rawAnalysisId: string, req: ApiRequest, deps: ApiDeps): Promise<AnalysisState> {
  const owner = ownerOf(req);
  if (!UUID.test(rawAnalysisId)) {
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_ID,
      'The analysis id must be the UUID returned by POST /analyses.',
    );
  }
  const analysisId = rawAnalysisId.toLowerCase();
  const { config, storage } = deps;
  const upload = await findUpload(analysisId, deps);
  // another caller's analysis (or an upload without an owner) answers exactly like none at all
  const uploadOwner = upload
    ? (await storage.metadata(config.uploadBucket, upload.key))?.[OWNER_METADATA]
    : null;
  if (!upload || uploadOwner !== owner) {
    throw new ApiError(
      404,
      ApiErrorCode.ANALYSIS_NOT_FOUND,
      `No image was uploaded for analysis ${analysisId}. PUT it to the URL returned by POST /analyses (the URL expires).`,
    );
  }
  const keys = resultKeys(imageIdFromKey(upload.key, config.uploadsPrefix), config.resultsPrefix);
  // List first, then read only what exists: a GET of a missing key is a 403, not a 404, for a
  // role without an unconditional s3:ListBucket.
  const present = new Set((await storage.list(config.resultsBucket, keys.prefix)).map((o) => o.key));
  const read = (key: string) =>
    present.has(key)
      ? storage.readJson(config.resultsBucket, key, MAX_RESULT_JSON_BYTES)
      : Promise.resolve(null);
  const [result, error] = await Promise.all([read(keys.result), read(keys.error)]);
  // only outputs of the current upload version count (a re-upload under the same key is pending again)
  const current = (o: typeof result) => answersUploadVersion(o, upload.uploadETag);
  if (current(result))
    return { analysisId, status: 'completed', result: result!.body as AnalysisResult, keys };
  if (current(error)) return { analysisId, status: 'failed', error: (error!.body as ErrorResult).error };
  return { analysisId, status: 'pending' };
}

async function getAnalysis(rawAnalysisId: string, req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const { config, storage } = deps;
  const a = await loadAnalysis(rawAnalysisId, req, deps);
  if (a.status === 'completed') {
    const now = (deps.now ?? (() => new Date()))();
    const expiresIn = config.downloadUrlTtlSeconds;
    const sign = (key: string) => storage.presignDownload({ bucket: config.resultsBucket, key, expiresIn });
    const [mask, overlay, fhir] = await Promise.all([
      sign(a.keys.mask),
      sign(a.keys.overlay),
      sign(a.keys.fhir),
    ]);
    const out: AnalysisStatusResponse = {
      id: a.analysisId,
      status: 'completed',
      result: a.result,
      links: { mask, overlay, fhir },
      linksExpireAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    };
    return json(200, out);
  }
  if (a.status === 'failed') {
    const e = a.error;
    const out: AnalysisStatusResponse = {
      id: a.analysisId,
      status: 'failed',
      error: { code: e.code, message: e.message, retryable: e.retryable },
    };
    return json(200, out);
  }
  const out: AnalysisStatusResponse = { id: a.analysisId, status: 'pending' };
  return json(200, out, { 'retry-after': PENDING_RETRY_AFTER_SECONDS });
}

/**
 * The FHIR DiagnosticReport of a completed analysis, for an EHR: mask and overlay Media carry
 * presigned HTTPS URLs (the stored report.fhir.json has `s3://` locations no EHR can open) with
 * their expiry stated in each Media's title; `issued` is now.
 */
async function getReport(rawAnalysisId: string, req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const { config, storage } = deps;
  const a = await loadAnalysis(rawAnalysisId, req, deps);
  if (a.status !== 'completed') {
    throw new ApiError(
      409,
      ApiErrorCode.ANALYSIS_NOT_COMPLETED,
      `Analysis ${a.analysisId} is ${a.status}; the report exists once GET /analyses/${a.analysisId} says completed.`,
      a.status === 'pending' ? { 'retry-after': PENDING_RETRY_AFTER_SECONDS } : {},
    );
  }
  const now = (deps.now ?? (() => new Date()))();
  const expiresIn = config.downloadUrlTtlSeconds;
  const sign = (key: string) => storage.presignDownload({ bucket: config.resultsBucket, key, expiresIn });
  const [mask, overlay] = await Promise.all([sign(a.keys.mask), sign(a.keys.overlay)]);
  const urls = new Map([
    [a.keys.mask, mask],
    [a.keys.overlay, overlay],
  ]);
  const report = buildFhirReport(a.result, a.keys, {
    bucket: config.resultsBucket,
    issued: now.toISOString(),
    mediaUrl: (key) => urls.get(key) ?? key,
    mediaUrlExpiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
  });
  return json(200, report, { 'content-type': `${RESULT_CONTENT_TYPES.fhir}; charset=utf-8` });
}

function methodNotAllowed(allowed: string): never {
  throw new ApiError(405, ApiErrorCode.METHOD_NOT_ALLOWED, `Use ${allowed} on this path.`, {
    allow: allowed,
  });
}

async function route(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const path = req.path.split('?')[0]!.replace(/\/+$/, '') || '/';
  const method = req.method.toUpperCase();
  if (path === '/analyses') {
    if (method !== 'POST') methodNotAllowed('POST');
    return createAnalysis(req, deps);
  }
  const m = /^\/analyses\/([^/]+)$/.exec(path);
  if (m) {
    if (method !== 'GET') methodNotAllowed('GET');
    return getAnalysis(m[1]!, req, deps);
  }
  const r = /^\/analyses\/([^/]+)\/report$/.exec(path);
  if (r) {
    if (method !== 'GET') methodNotAllowed('GET');
    return getReport(r[1]!, req, deps);
  }
  throw new ApiError(
    404,
    ApiErrorCode.ROUTE_NOT_FOUND,
    `No route ${method} ${path}; see docs/integration.md.`,
  );
}

/**
 * The upload API without any framework: `POST /analyses` issues an id and a presigned PUT,
 * `GET /analyses/{id}` reports pending / completed (with presigned links) / failed,
 * `GET /analyses/{id}/report` gives a completed analysis's FHIR report with fetchable media URLs.
 * Never throws: every failure becomes a JSON error response.
 *
 * @example
 * const res = await handleApiRequest({ method: 'GET', path: `/analyses/${id}`, headers: {}, body: null }, deps);
 */
export async function handleApiRequest(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    return await route(req, deps);
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e);
    deps.onError?.(e, req);
    if (isLesionError(e) && e.retryable) {
      return errorResponse(
        new ApiError(503, ApiErrorCode.SERVICE_UNAVAILABLE, 'Storage is unavailable; retry shortly.', {
          'retry-after': '1',
        }),
      );
    }
    return errorResponse(new ApiError(500, ApiErrorCode.INTERNAL, 'Internal error.'));
  }
}
