export { apiConfigFrom, loadApiConfig, API_ENV, type ApiConfig } from './config.js';
export { ApiError, ApiErrorCode } from './errors.js';
export { handleApiRequest, parseCreateRequest, MAX_REQUEST_BODY_BYTES, type ApiDeps } from './handler.js';
export { startApiServer, LOCAL_API_HOST, type ApiServer, type ApiHandler } from './http-server.js';
export { fromApiGatewayEvent, toApiGatewayResult } from './lambda.js';
export {
  S3AnalysisStorage,
  SIGNED_UPLOAD_HEADERS,
  type AnalysisStorage,
  type StoredJson,
} from './storage.js';
export * from './types.js';
