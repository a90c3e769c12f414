import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IsolateError, type Logger, silentLogger } from '@pyworkers/isolate';
import { RouterError } from './errors.js';
import { type BundleSource, IsolatePool, type PoolStats } from './pool.js';
import { type Route, RouteTable } from './routes.js';

/** A worker the router serves. */
export interface WorkerDefinition {
  name: string;
  routes: Route[];
  bundle: BundleSource;
}

/** Options of {@link createRouter}. */
export interface RouterOptions {
  workers: WorkerDefinition[];
  logger?: Logger;
  /** Largest request body accepted, in bytes (default 100 MiB). */
  maxBodyBytes?: number;
}

/** A running router. */
export interface Router {
  server: Server;
  /** Starts listening; resolves with the bound address. */
  listen(options: { port: number; host: string }): Promise<AddressInfo>;
  /** Stops accepting, closes every isolate. */
  close(): Promise<void>;
  stats(): PoolStats[];
}

const STATUS_PATH = '/__pyworkers/status';

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new RouterError('ERR_ROUTER_BODY_TOO_LARGE', `request body is over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Creates the HTTP front that routes requests to workers' isolates.
 * @example const router = createRouter({ workers }); await router.listen({ port: 8787, host: '127.0.0.1' });
 */
export function createRouter(options: RouterOptions): Router {
  const logger = options.logger ?? silentLogger;
  const maxBody = options.maxBodyBytes ?? 100 * 1024 * 1024;
  const table = new RouteTable(
    options.workers.flatMap((w) => w.routes.map((route) => ({ worker: w.name, route }))),
  );
  const pools = new Map(
    options.workers.map((w) => [w.name, new IsolatePool(w.name, w.bundle, logger)]),
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    if (path === STATUS_PATH) {
      const body = JSON.stringify({ workers: [...pools.values()].map((p) => p.stats()) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    const name = table.match(req.headers.host, path);
    const pool = name ? pools.get(name) : undefined;
    if (!pool) {
      sendText(res, 404, `no worker is routed at ${req.headers.host ?? ''}${path}\n`);
      return;
    }
    const body = await readBody(req, maxBody);
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    const url = `http://${req.headers.host ?? '127.0.0.1'}${path}`;
    const isolate = await pool.acquire();
    try {
      const out = await isolate.fetch({ method: req.method ?? 'GET', url, headers, body });
      res.statusCode = out.status;
      for (const [k, v] of out.headers) res.appendHeader(k, v);
      res.end(out.body);
    } catch (err) {
      if (err instanceof IsolateError && err.code !== 'ERR_ISOLATE_HANDLER') pool.discard(isolate);
      throw err;
    }
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    handle(req, res)
      .catch((err: unknown) => {
        const tooLarge = err instanceof RouterError && err.code === 'ERR_ROUTER_BODY_TOO_LARGE';
        logger.error({ err, url: req.url }, 'request failed');
        if (!res.headersSent)
          sendText(
            res,
            tooLarge
              ? 413
              : err instanceof IsolateError && err.code === 'ERR_ISOLATE_HANDLER'
                ? 500
                : 502,
            tooLarge ? 'request body too large\n' : 'the worker failed to handle this request\n',
          );
        else res.destroy();
      })
      .finally(() => {
        logger.info(
          {
            method: req.method,
            url: req.url,
            status: res.statusCode,
            ms: +(performance.now() - started).toFixed(2),
          },
          'request',
        );
      });
  });

  return {
    server,
    listen({ port, host }) {
      return new Promise((resolve, reject) => {
        server.once('error', (err) =>
          reject(
            new RouterError(
              'ERR_ROUTER_LISTEN',
              `cannot listen on ${host}:${port}: ${err.message}`,
              { cause: err },
            ),
          ),
        );
        server.listen(port, host, () => resolve(server.address() as AddressInfo));
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
    stats: () => [...pools.values()].map((p) => p.stats()),
  };
}
