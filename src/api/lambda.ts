import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { callerFromAuthorizer, type AuthorizerContext } from './owner.js';
import type { ApiRequest, ApiResponse } from './types.js';

/**
 * API Gateway HTTP API (payload format 2.0) event → ApiRequest. A named stage's prefix is
 * removed from the path (`/prod/analyses` → `/analyses`); the `$default` stage has none. The
 * caller is the authoriser's principal (IAM) or subject (JWT).
 *
 * @example
 * const res = await handleApiRequest(fromApiGatewayEvent(event), deps);
 */
export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const stage = event.requestContext?.stage;
  let path = event.rawPath || '/';
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) {
    path = path.slice(stage.length + 1) || '/';
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body =
    event.body === undefined || event.body === null
      ? null
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  // IAM authoriser: requestContext.authorizer.iam.userArn; JWT authoriser: .jwt.claims (sub, iss)
  const authorizer = (event.requestContext as { authorizer?: AuthorizerContext } | undefined)?.authorizer;
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path,
    headers,
    body,
    caller: callerFromAuthorizer(authorizer),
  };
}

/** ApiResponse → the structured result API Gateway expects. */
export function toApiGatewayResult(res: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.statusCode, headers: { ...res.headers }, body: res.body, isBase64Encoded: false };
}
