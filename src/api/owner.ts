/**
 * Who owns an analysis. The caller's identity comes from API Gateway's authoriser (never from a
 * header the client chooses); `POST /analyses` binds its tag into the presigned PUT as signed
 * `x-amz-meta-owner` metadata, so the upload carries it and the uploader cannot change it;
 * `GET /analyses/{id}` answers only a caller with the same tag (docs/security.md).
 */
import { createHash } from 'node:crypto';

/** User-metadata name on the upload (`x-amz-meta-owner`). */
export const OWNER_METADATA = 'owner';
/** The header the presigned PUT signs and the client must send. */
export const OWNER_HEADER = `x-amz-meta-${OWNER_METADATA}`;

/** The caller the local, loopback-only server (no authentication) acts as. */
export const LOCAL_CALLER = 'local:anonymous';

/** What the authoriser put in an HTTP API (payload 2.0) request context. */
export interface AuthorizerContext {
  readonly iam?: { readonly userArn?: string | null } | null;
  readonly jwt?: { readonly claims?: Readonly<Record<string, unknown>> | null } | null;
}

/**
 * The IAM principal of a caller ARN: an assumed-role session becomes its role
 * (`arn:aws:sts::1:assumed-role/Role/session` → `arn:aws:sts::1:assumed-role/Role`), since every
 * session of one role is the same caller (a Lambda's session name changes with each cold start).
 *
 * @example
 * iamPrincipal('arn:aws:sts::123456789012:assumed-role/app/i-0abc') // 'arn:aws:sts::123456789012:assumed-role/app'
 */
export function iamPrincipal(userArn: string): string {
  const m = /^(arn:[^:]+:sts::\d+:assumed-role\/[^/]+)\/.+$/.exec(userArn);
  return m ? m[1]! : userArn;
}

/**
 * The caller of a request, as `iam:<principal ARN>` or `jwt:<iss> <sub>` (the subject is unique
 * per issuer only), or null when the authoriser reported neither.
 */
export function callerFromAuthorizer(a: AuthorizerContext | null | undefined): string | null {
  const arn = a?.iam?.userArn;
  if (typeof arn === 'string' && arn !== '') return `iam:${iamPrincipal(arn)}`;
  const claims = a?.jwt?.claims;
  const sub = claims?.sub;
  if (typeof sub === 'string' && sub !== '') {
    const iss = typeof claims?.iss === 'string' ? claims.iss : '';
    return `jwt:${iss} ${sub}`;
  }
  return null;
}

/**
 * The owner tag stored on the upload: hex SHA-256 of the caller, so no ARN or subject (which may
 * be an e-mail address) sits in object metadata, and any caller text fits an HTTP header.
 *
 * @example
 * ownerTag('iam:arn:aws:iam::123456789012:user/alice') // 64 hex digits
 */
export function ownerTag(caller: string): string {
  return createHash('sha256').update(caller, 'utf8').digest('hex');
}
