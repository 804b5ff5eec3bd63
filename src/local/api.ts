// The upload API served over the local pipeline (`npm start -- --serve`, the API end-to-end test).
import { apiConfigFrom, type ApiConfig } from '../api/config.js';
import { handleApiRequest, type ApiDeps } from '../api/handler.js';
import { startApiServer, type ApiServer } from '../api/http-server.js';
import { LOCAL_CALLER } from '../api/owner.js';
import { S3AnalysisStorage } from '../api/storage.js';
import type { LocalPipeline } from './pipeline.js';

export interface LocalApiOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  readonly config?: Partial<ApiConfig>;
  /** Failures of the API (5xx causes) and of background processing. */
  readonly onError?: (error: unknown) => void;
}

export interface LocalApi {
  readonly url: string;
  readonly server: ApiServer;
  /** Resolves once no upload is queued or being processed. */
  idle(): Promise<void>;
  /** Stop serving and wait for the processing in flight (the pipeline itself stays up). */
  close(): Promise<void>;
}

/**
 * The upload API on 127.0.0.1 over a running LocalPipeline: presigned URLs point at its
 * embedded S3 server, and every upload notification starts processing (`pipeline.drain()`),
 * one drain at a time.
 *
 * @example
 * const pipeline = await LocalPipeline.start();
 * const api = await serveLocalPipeline(pipeline, { port: 8080 });
 */
export async function serveLocalPipeline(
  pipeline: LocalPipeline,
  opts: LocalApiOptions = {},
): Promise<LocalApi> {
  const deps: ApiDeps = {
    storage: new S3AnalysisStorage(pipeline.s3.client),
    config: apiConfigFrom(pipeline.config, pipeline.bucket, opts.config),
    onError: (e) => opts.onError?.(e),
  };
  let closed = false;
  let running: Promise<void> | null = null;
  let again = false;

  const drainLoop = async (): Promise<void> => {
    do {
      again = false;
      try {
        await pipeline.drain();
      } catch (e) {
        opts.onError?.(e);
      }
    } while ((again || pipeline.pending > 0) && !closed);
  };
  const schedule = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = drainLoop().finally(() => {
      running = null;
    });
  };
  // LocalPipeline queues the notification in its own (earlier) listener; this one drains it.
  pipeline.s3.onObjectCreated(() => setImmediate(schedule));

  // loopback only, no authentication: every local request is the one local caller
  const server = await startApiServer((req) => handleApiRequest({ ...req, caller: LOCAL_CALLER }, deps), {
    port: opts.port ?? 0,
  });
  return {
    url: server.url,
    server,
    async idle() {
      while (!closed && (running || pipeline.pending > 0)) {
        if (!running) schedule();
        await running;
      }
    },
    async close() {
      closed = true;
      await server.close();
      await running;
    },
  };
}
