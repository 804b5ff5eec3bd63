// Lambda entry of the upload API (API Gateway HTTP API, payload format 2.0). Only wiring lives
// here; the logic is src/api/handler.ts, shared with the local server (npm start -- --serve).
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadApiConfig } from '../../src/api/config.js';
import { handleApiRequest } from '../../src/api/handler.js';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../src/api/lambda.js';
import { S3AnalysisStorage } from '../../src/api/storage.js';
import { createS3Client } from '../../src/storage/s3.js';

const logger = new Logger({ serviceName: 'lesion-api' });
const config = loadApiConfig();
// createS3Client: no checksum parameters in presigned URLs (clients could not supply them)
const storage = new S3AnalysisStorage(createS3Client());

async function core(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const request = fromApiGatewayEvent(event);
  const response = await handleApiRequest(request, {
    storage,
    config,
    onError: (e) =>
      logger.error('request failed', {
        error: (e as Error)?.message,
        cause: String(((e as Error)?.cause as Error)?.message ?? ''),
      }),
  });
  // method, path (ids only) and status: never bodies, headers or presigned URLs
  logger.info('request', { method: request.method, path: request.path, status: response.statusCode });
  return toApiGatewayResult(response);
}

export const handler = middy(core).use(injectLambdaContext(logger, { resetKeys: true }));
