/**
 * Ownership through both authorisers, end to end: API Gateway events (IAM and JWT request
 * contexts) → the handler → a real PUT to the presigned URL on the local S3 endpoint (which
 * verifies the signature as S3 does) → GET by the creator and by other callers.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiConfigFrom } from '../../src/api/config.js';
import { handleApiRequest, type ApiDeps } from '../../src/api/handler.js';
import { fromApiGatewayEvent } from '../../src/api/lambda.js';
import { S3AnalysisStorage } from '../../src/api/storage.js';
import type { CreateAnalysisResponse } from '../../src/api/types.js';
import { loadConfig } from '../../src/config.js';
import { startLocalS3, type LocalS3 } from '../../src/local/s3-server.js';

const IAM_ALICE = { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/clinic-app/session-1' } };
const IAM_ALICE_LATER = { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/clinic-app/session-2' } };
const IAM_BOB = { iam: { userArn: 'arn:aws:iam::123456789012:user/bob' } };
const JWT_CAROL = { jwt: { claims: { iss: 'https://idp.example.org', sub: 'carol' }, scopes: null } };
const JWT_CAROL_OTHER_ISSUER = { jwt: { claims: { iss: 'https://other-idp.example.org', sub: 'carol' } } };
const JWT_DAVE = { jwt: { claims: { iss: 'https://idp.example.org', sub: 'dave' } } };

function event(method: string, rawPath: string, authorizer: object, body?: unknown): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { stage: '$default', authorizer, http: { method, path: rawPath } },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

describe('an analysis answers only its creator (IAM and JWT authorisers)', () => {
  let s3: LocalS3;
  let deps: ApiDeps;
  beforeAll(async () => {
    s3 = await startLocalS3();
    deps = {
      storage: new S3AnalysisStorage(s3.client),
      config: apiConfigFrom(loadConfig({}, { maxBytes: 1_000_000 }), s3.bucket),
    };
  });
  afterAll(() => s3.stop());

  const call = async (method: string, path: string, authorizer: object, body?: unknown) => {
    const res = await handleApiRequest(fromApiGatewayEvent(event(method, path, authorizer, body)), deps);
    return { status: res.statusCode, json: JSON.parse(res.body) as Record<string, unknown> };
  };

  async function createAndUpload(authorizer: object): Promise<string> {
    const bytes = Buffer.from('not really a jpeg, the owner check does not read it');
    const created = await call('POST', '/analyses', authorizer, {
      contentType: 'image/jpeg',
      contentLength: bytes.length,
    });
    expect(created.status).toBe(201);
    const { id, upload } = created.json as unknown as CreateAnalysisResponse;
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes });
    expect(put.status).toBe(200);
    return id;
  }

  it.each([
    ['IAM', IAM_ALICE, [IAM_ALICE, IAM_ALICE_LATER], [IAM_BOB, JWT_CAROL]],
    ['JWT', JWT_CAROL, [JWT_CAROL], [JWT_DAVE, JWT_CAROL_OTHER_ISSUER, IAM_BOB]],
  ])('%s: the creator gets the analysis, every other caller 404', async (_name, creator, same, others) => {
    // Prepare
    const id = await createAndUpload(creator);

    // Act
    const mine = await Promise.all(same.map((a) => call('GET', `/analyses/${id}`, a)));
    const theirs = await Promise.all(others.map((a) => call('GET', `/analyses/${id}`, a)));

    // Assess
    for (const r of mine) expect([r.status, r.json.status]).toEqual([200, 'pending']);
    for (const r of theirs) {
      expect(r.status).toBe(404);
      expect((r.json.error as { code: string }).code).toBe('ANALYSIS_NOT_FOUND');
    }
  });

  it('refuses an upload that drops the owner header (the presigned URL signs it)', async () => {
    // Prepare
    const created = await call('POST', '/analyses', IAM_BOB, { contentType: 'image/jpeg', contentLength: 3 });
    const { upload } = created.json as unknown as CreateAnalysisResponse;

    // Act
    const put = await fetch(upload.url, {
      method: 'PUT',
      headers: { 'Content-Type': 'image/jpeg' },
      body: 'abc',
    });

    // Assess
    expect(put.status).toBe(403);
  });
});
