// The router's HTTP front: one request (admin pages, the scheduled test path, assets, then the
// worker), the server around it (error pages, metrics, the access log, in-flight counting for
// close()) and `Upgrade: websocket` requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isBodyStream, isIsolateError, type Logger } from '@pyworkers/isolate';
import { isAdminPath } from './admin/access.js';
import { handleAdmin } from './admin/admin.js';
import type { StatusHistory } from './admin/history.js';
import type { AssetsFront } from './assets/static-assets.js';
import type { RouterConfig } from './config.js';
import { isRouterError, type RouterError } from './errors.js';
import { answerScheduledPath, isScheduledPath } from './events/event-sources.js';
import type { HostFleet } from './fleet.js';
import type { HostWorker } from './host/types.js';
import {
  closeIfUnread,
  drainWithin,
  requestBody,
  sendText,
  toIsolateRequest,
  writeResponse,
} from './http.js';
import type { RouterMetrics } from './metrics.js';
import type { Router } from './router.js';
import type { RouteTable } from './routes.js';
import { createUpgrader, refuseUpgrade } from './websocket.js';

/** What the front reads and counts; the router owns all of it. */
export interface FrontContext {
  config: RouterConfig;
  logger: Logger;
  adminToken: string | undefined;
  testScheduled: boolean | undefined;
  table: RouteTable;
  workers: Map<string, HostWorker>;
  /** Static assets per worker, answered before the worker runs. */
  fronts: Map<string, AssetsFront>;
  hosts: Pick<HostFleet, 'dispatch' | 'attachSocket'>;
  metrics: RouterMetrics;
  history: StatusHistory;
  errorCounts: Map<string, number>;
  router: Pick<Router, 'status' | 'dispatch'>;
  countRequest(worker: string): void;
  /** Requests in flight, which close() waits for; `draining` once it started. */
  flight: { begin(): void; end(): void; readonly draining: boolean };
}

function statusFor(err: unknown): number {
  // By marker, not instanceof: an error from a child host process is revived from plain data.
  if (isRouterError(err)) {
    if (err.code === 'ERR_ROUTER_BODY_TOO_LARGE') return 413;
    if (err.code === 'ERR_ROUTER_REQUEST_TIMEOUT') return 408;
    if (err.code === 'ERR_ROUTER_HOST_CRASHED' || err.code === 'ERR_ROUTER_CLOSED') return 503;
  }
  if (isIsolateError(err)) {
    if (err.code === 'ERR_ISOLATE_HANDLER') return 500;
    if (err.code === 'ERR_ISOLATE_CLOSED') return 503;
  }
  return 502;
}

/** The HTTP server of a router: requests and WebSocket upgrades to its workers. */
export function createFront(ctx: FrontContext): Server {
  const { config, logger, table, workers, fronts, hosts, metrics, history, errorCounts, flight } =
    ctx;

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    admin: boolean,
  ): Promise<string | undefined> {
    const path = req.url ?? '/';
    // Before any route: no worker, whatever its routes, is given an admin path.
    if (admin) {
      await handleAdmin(req, res, {
        token: ctx.adminToken,
        status: () => ctx.router.status(),
        metrics: async () => ({
          body: await metrics.registry.metrics(),
          contentType: metrics.registry.contentType,
        }),
      });
      return undefined;
    }
    const name =
      table.match(req.headers.host, path) ??
      (ctx.testScheduled && isScheduledPath(path) && workers.size === 1
        ? [...workers.keys()][0]
        : undefined);
    const worker = name ? workers.get(name) : undefined;
    if (!worker) {
      sendText(res, 404, `no worker is routed at ${req.headers.host ?? ''}${path}\n`);
      return undefined;
    }
    if (ctx.testScheduled && isScheduledPath(path)) {
      const answer = await answerScheduledPath(path, worker.name, ctx.router.dispatch, logger);
      sendText(res, answer.status, answer.body);
      return worker.name;
    }
    ctx.countRequest(worker.name);
    const front = fronts.get(worker.name);
    if (front && !front.workerFirst(new URL(path, 'http://localhost').pathname)) {
      const { body: _none, ...head } = toIsolateRequest(req, new Uint8Array(0));
      const asset = await front.respond(head);
      if (asset) {
        await writeResponse(
          res,
          { ...asset, body: asset.body ?? new Uint8Array(0) },
          flight.draining,
        );
        return worker.name;
      }
    }
    let bodyError: RouterError | undefined;
    const body = await requestBody(
      req,
      { maxBytes: config.maxBodyBytes, timeoutMs: config.requestTimeoutMs },
      (err) => {
        bodyError = err;
      },
    );
    let result: Awaited<ReturnType<HostFleet['dispatch']>>;
    try {
      result = await hosts.dispatch(worker, toIsolateRequest(req, body));
    } catch (err) {
      throw bodyError ?? err;
    }
    await writeResponse(res, result.response, flight.draining);
    if (isBodyStream(body)) closeIfUnread(req, res);
    return worker.name;
  }

  const server = createServer(
    {
      maxHeaderSize: config.maxHeaderBytes,
      headersTimeout: config.headersTimeoutMs,
      // node:http's requestTimeout counts a whole upload, so an upload that flows but takes
      // longer than it (100 MiB at under 1.7 MiB/s for 60 s) got a 408 in the middle. The
      // router applies `requestTimeoutMs` itself: to a small body as a whole, to a streamed one
      // per wait for the client's next bytes (./http.ts), and to a body nobody reads.
      requestTimeout: 0,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      // Node checks the head timeout on this interval (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    },
    (req, res) => {
      const started = performance.now();
      if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding']) {
        drainWithin(req, res, config.requestTimeoutMs);
      }
      flight.begin();
      let worker: string | undefined;
      const admin = isAdminPath(req.url ?? '/');
      handle(req, res, admin)
        .then((name) => {
          worker = name;
        })
        .catch((err: unknown) => {
          const status = statusFor(err);
          const url = req.url ?? '/';
          worker = admin ? undefined : table.match(req.headers.host, url);
          history.error({
            time: Date.now(),
            worker,
            method: req.method,
            url,
            status,
            message: String((err as Error)?.message ?? err),
          });
          if (worker) errorCounts.set(worker, (errorCounts.get(worker) ?? 0) + 1);
          (status >= 500 && status !== 500 ? logger.error : logger.warn).call(
            logger,
            { err: (err as Error)?.message, url: req.url, worker },
            'request failed',
          );
          if (res.headersSent) {
            res.destroy();
            return;
          }
          if (status === 413 || status === 408 || flight.draining) {
            res.setHeader('connection', 'close');
          }
          sendText(
            res,
            status,
            status === 413
              ? 'request body too large\n'
              : status === 408
                ? 'request timeout: the client stopped sending its body\n'
                : status === 503
                  ? 'the worker is unavailable, retry\n'
                  : 'the worker failed to handle this request\n',
          );
        })
        .finally(() => {
          const seconds = (performance.now() - started) / 1000;
          if (worker) {
            metrics.requests.inc({ worker, status: String(res.statusCode) });
            metrics.duration.observe({ worker }, seconds);
            history.request(worker, seconds * 1000);
          }
          // The status page polls once a second: its requests are not news at info level.
          (admin ? logger.debug : logger.info).call(
            logger,
            {
              method: req.method,
              url: req.url,
              host: req.headers.host,
              worker,
              status: res.statusCode,
              ms: +(seconds * 1000).toFixed(2),
            },
            'request',
          );
          flight.end();
        });
    },
  );

  // `Upgrade: websocket`: the worker decides (101 via a WebSocketPair, or any other answer).
  const upgrade = createUpgrader();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = req.url ?? '/';
    const name = table.match(req.headers.host, path);
    const worker = name ? workers.get(name) : undefined;
    if (!worker || flight.draining) {
      refuseUpgrade(
        socket,
        worker ? 503 : 404,
        worker
          ? 'the router is shutting down\n'
          : `no worker is routed at ${req.headers.host ?? ''}${path}\n`,
      );
      return;
    }
    ctx.countRequest(worker.name);
    hosts
      .dispatch(worker, toIsolateRequest(req, new Uint8Array(0)))
      .then(async ({ response }) => {
        // A Durable Object's socket (through its stub.fetch): held by the object's host.
        const ref = response.status === 101 ? response.webSocketRef : undefined;
        const answer = ref ? { ...response, webSocket: await hosts.attachSocket(ref) } : response;
        return upgrade(req, socket, head, answer);
      })
      .catch((err: unknown) => {
        logger.warn(
          { err: (err as Error)?.message, url: req.url, worker: worker.name },
          'upgrade failed',
        );
        refuseUpgrade(socket, statusFor(err), 'the worker failed to handle this request\n');
      });
  });
  return server;
}
