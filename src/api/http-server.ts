import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiRequest, ApiResponse } from './types.js';

/** Only loopback: the local server has no authentication. */
export const LOCAL_API_HOST = '127.0.0.1';
/** Larger request bodies are refused before they are read to the end. */
export const MAX_HTTP_BODY_BYTES = 64 * 1024;

export interface ApiServer {
  /** e.g. `http://127.0.0.1:51234` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });

function send(res: ServerResponse, r: ApiResponse): void {
  res.writeHead(r.statusCode, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
  res.end(r.body);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > MAX_HTTP_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, n).toString('utf8');
}

/**
 * Serve an ApiHandler over node:http on 127.0.0.1 (port 0 = any free port). For local runs
 * and tests only: no TLS, no authentication (API Gateway provides both in AWS).
 *
 * @example
 * const server = await startApiServer((req) => handleApiRequest(req, deps), { port: 0 });
 */
export async function startApiServer(handle: ApiHandler, opts: { port?: number } = {}): Promise<ApiServer> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const declared = Number(req.headers['content-length'] ?? 0);
        const body = declared > MAX_HTTP_BODY_BYTES ? null : await readBody(req);
        if (body === null) {
          res.setHeader('connection', 'close');
          send(res, {
            statusCode: 413,
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: errorBody('REQUEST_TOO_LARGE', `The request body is above ${MAX_HTTP_BODY_BYTES} bytes.`),
          });
          return;
        }
        const url = new URL(req.url ?? '/', `http://${LOCAL_API_HOST}`);
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        send(
          res,
          await handle({
            method: req.method ?? 'GET',
            path: url.pathname,
            headers,
            body: body === '' ? null : body,
            // no authentication here: the caller is set by whoever wraps the handler (local.ts)
            caller: null,
          }),
        );
      } catch {
        if (!res.headersSent) {
          send(res, {
            statusCode: 500,
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: errorBody('INTERNAL', 'Internal error.'),
          });
        } else res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, LOCAL_API_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${LOCAL_API_HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
