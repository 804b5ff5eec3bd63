import { startApiServer, MAX_HTTP_BODY_BYTES, type ApiServer } from '../../src/api/http-server.js';
import type { ApiRequest } from '../../src/api/types.js';

describe('startApiServer (node:http adapter)', () => {
  let server: ApiServer;
  const seen: ApiRequest[] = [];

  beforeAll(async () => {
    server = await startApiServer(async (req) => {
      seen.push(req);
      if (req.path === '/boom') throw new Error('bug');
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ok: true }),
      };
    });
  });
  afterAll(() => server.close());

  it('listens on 127.0.0.1 and passes method, path without query, headers and body', async () => {
    // Act
    const res = await fetch(`${server.url}/analyses?x=1`, {
      method: 'POST',
      headers: { 'X-Test': 'a' },
      body: '{"b":2}',
    });

    // Assess
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      path: '/analyses',
      headers: { 'x-test': 'a' },
      body: '{"b":2}',
    });
  });

  it('passes a missing body as null', async () => {
    await fetch(`${server.url}/analyses/x`);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', body: null });
  });

  it('refuses a body above the limit with a JSON 413 without calling the handler', async () => {
    // Prepare
    const before = seen.length;

    // Act
    const res = await fetch(`${server.url}/analyses`, {
      method: 'POST',
      body: 'x'.repeat(MAX_HTTP_BODY_BYTES + 1),
    });

    // Assess
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: {
        code: 'REQUEST_TOO_LARGE',
        message: `The request body is above ${MAX_HTTP_BODY_BYTES} bytes.`,
      },
    });
    expect(seen.length).toBe(before);
  });

  it('turns a handler exception into a JSON 500', async () => {
    const res = await fetch(`${server.url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal error.' } });
  });
});
