/**
 * The local S3 endpoint: a proxy on 127.0.0.1 in front of s3rver (which checks no signature)
 * that refuses what S3 would refuse — a presigned URL that is tampered with, expired, used for
 * another key or method, or sent with another content type / length / owner than it signed; a
 * request signed with unknown credentials; an anonymous request — with S3's 403 XML error, and
 * forwards the rest unchanged. So the local run shows the guarantees docs/security.md describes.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4, type SigV4Result } from './sigv4-verify.js';

export interface VerifyingProxy {
  /** e.g. `http://127.0.0.1:51234` */
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface VerifyingProxyOptions {
  /** The s3rver behind it, e.g. `http://127.0.0.1:4568`. */
  readonly backend: string;
  /** Access key id → secret access key. */
  readonly credentials: ReadonlyMap<string, string>;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** S3's XML error body. */
export function s3ErrorXml(code: string, message: string, resource: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource></Error>`
  );
}

function refuse(req: IncomingMessage, res: ServerResponse, r: Extract<SigV4Result, { ok: false }>): void {
  const body = s3ErrorXml(r.code, r.message, (req.url ?? '/').split('?')[0]!);
  // the request body is not read: close the connection instead of draining an upload
  res.writeHead(r.code === 'AuthorizationQueryParametersError' ? 400 : 403, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

function forward(req: IncomingMessage, res: ServerResponse, backend: URL, agent: Agent): void {
  const upstream = request(
    {
      agent,
      host: backend.hostname,
      port: backend.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: backend.host },
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('local S3 server unavailable');
  });
  req.pipe(upstream);
}

/**
 * Start the verifying proxy.
 *
 * @example
 * const proxy = await startVerifyingProxy({ backend: 'http://127.0.0.1:4568', credentials: new Map([['S3RVER', 'S3RVER']]) });
 */
export async function startVerifyingProxy(opts: VerifyingProxyOptions): Promise<VerifyingProxy> {
  const backend = new URL(opts.backend);
  const now = opts.now ?? (() => new Date());
  // its own agent, destroyed on close: no kept-alive socket to s3rver outlives the proxy
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    // a CORS preflight carries no credentials; S3 answers it from the bucket's CORS rules
    if (req.method === 'OPTIONS') {
      forward(req, res, backend, agent);
      return;
    }
    const verdict = verifySigV4(
      { method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers: req.headers },
      opts.credentials,
      now(),
    );
    if (!verdict.ok) refuse(req, res, verdict);
    else forward(req, res, backend, agent);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
