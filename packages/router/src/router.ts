import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';
import type { Duplex } from 'node:stream';
import { formatIssues } from '@pyworkers/common';
import {
  type AssetsConfig,
  type Bundle,
  type EventResultFor,
  IsolateLauncher,
  isBodyStream,
  isIsolateError,
  type Logger,
  type QueueConsumer,
  type RpcResult,
  silentLogger,
  type WorkerEvent,
} from '@pyworkers/isolate';
import { isAdminPath } from './admin/access.js';
import { handleAdmin } from './admin/admin.js';
import { StatusHistory } from './admin/history.js';
import { type StatusExtras, statusExtras } from './admin/status.js';
import { type AssetsFront, assetsFront } from './assets/static-assets.js';
import type { WorkerState } from './bindings/wiring.js';
import { type RouterConfig, routerConfigSchema } from './config.js';
import { isRouterError, RouterError } from './errors.js';
import { answerScheduledPath, isScheduledPath } from './events/event-sources.js';
import { routerEvents } from './events/router-events.js';
import { HostFleet } from './fleet.js';
import type { HostWorker } from './host/types.js';
import { closeIfUnread, requestBody, sendText, toIsolateRequest, writeResponse } from './http.js';
import type { Launcher } from './launcher.js';
import { RouterMetrics } from './metrics.js';
import { RouterObjects, type RunObjectEvent } from './objects/router-objects.js';
import { type Route, RouteTable } from './routes.js';
import { deliverCall } from './services/deliver.js';
import type { ForwardedCall } from './services/types.js';
import { createUpgrader, refuseUpgrade } from './websocket.js';

/** Where the router gets a worker's bundle from (read lazily, on its first cold start). */
export type BundleSource = () => Promise<Bundle>;

/** A worker the router serves. */
export interface WorkerDefinition {
  name: string;
  routes: Route[];
  bundle: BundleSource;
  /** Secrets for the worker's `self.env` (e.g. from `.dev.vars`); never stored in bundles. */
  secrets?: Record<string, string>;
  /** Where the worker's bindings keep their state (KV, D1, R2, queues) on this machine. */
  state?: WorkerState;
  /** Cron expressions that run its `scheduled` handler (wrangler `triggers.crons`). */
  crons?: string[];
  /** Queues whose batches go to its `queue` handler. */
  queueConsumers?: QueueConsumer[];
  /** Static assets the router answers before the worker runs (`directory` absolute). */
  assets?: AssetsConfig;
}

/** Options of {@link createRouter}: the workers plus the knobs of {@link RouterConfig}. */
export interface RouterOptions extends Partial<RouterConfig> {
  workers: WorkerDefinition[];
  logger?: Logger;
  /**
   * Starts the isolates of in-process hosts (`hostKind: 'local'`); default: an
   * `IsolateLauncher` with `poolSize` parked isolates. Host processes make their own.
   */
  launcher?: Launcher;
  /**
   * Answer `/__scheduled?cron=...` and `/cdn-cgi/handler/scheduled?cron=...` by running the
   * worker's `scheduled` handler, as `wrangler dev --test-scheduled` does (dev only).
   */
  testScheduled?: boolean;
  /** Run cron triggers and queue consumers (default true). */
  eventSources?: boolean;
  /**
   * When set, every `/__pyworkers/*` request must carry it (bearer header, or `?token=` once in
   * a browser); when not, those paths answer only requests from this machine. Never shown in
   * the status.
   */
  adminToken?: string;
  /** Rewrites error text for the status page (the CLI maps isolate paths to the user's files). */
  rewriteError?: (text: string, worker?: string) => string;
}

/** Per-worker counters for the status page. */
export interface WorkerStats {
  worker: string;
  isolates: number;
  bytes: number;
  coldStarts: number;
  evictions: number;
  sheds: number;
  requests: number;
}

/** The router's state as `/__pyworkers/status` shows it (and the status page plots). */
export interface RouterStatus extends StatusExtras {
  draining: boolean;
  inflight: number;
  config: RouterConfig;
}

/** A running router. */
export interface Router {
  server: Server;
  /**
   * Loads every worker's bundle into every host (decoded once per host) and waits until the
   * hosts' parked isolates are booted; `listen` does this first.
   */
  ready(): Promise<void>;
  /** Gets {@link Router.ready}, then listens; resolves with the bound address. */
  listen(options: { port: number; host: string }): Promise<AddressInfo>;
  /**
   * Stops accepting, lets in-flight requests finish (at most `drainTimeoutMs`), then closes
   * every isolate and host process.
   */
  close(): Promise<void>;
  /** Per-worker counters and isolates. */
  stats(): Promise<WorkerStats[]>;
  status(): Promise<RouterStatus>;
  /** Prometheus text, as served at `/__pyworkers/metrics`. */
  metrics(): Promise<string>;
  /**
   * Runs a `scheduled` (cron) or `queue` event on one of worker `name`'s isolates, placed
   * like its requests (cold-starting one if needed). Resolves with what the handler made of
   * it (a queue batch: every message's ack/retry); rejects with `ERR_ROUTER_NO_WORKER` for an
   * unknown worker and `ERR_ISOLATE_HANDLER` when the worker has no handler for the event.
   * @example await router.dispatch('cron', { type: 'scheduled', cron: '* * * * *', scheduledTime: Date.now() });
   */
  dispatch<E extends WorkerEvent>(name: string, event: E): Promise<EventResultFor<E>>;
  /**
   * Delivers a call on a service binding to its target worker (placed like its requests): a
   * `fetch` to its fetch handler, anything else as an `rpc` event. Hosts call this for their
   * isolates; it resolves with what the target answered, as an {@link RpcResult}.
   * @example await router.deliver({ from: 'a', binding: 'B', target: { kind: 'service', service: 'b' }, method: 'add', args: [1, 2] });
   */
  deliver(call: ForwardedCall): Promise<RpcResult>;
}

function statusFor(err: unknown): number {
  // By marker, not instanceof: an error from a child host process is revived from plain data.
  if (isRouterError(err)) {
    if (err.code === 'ERR_ROUTER_BODY_TOO_LARGE') return 413;
    if (err.code === 'ERR_ROUTER_HOST_CRASHED' || err.code === 'ERR_ROUTER_CLOSED') return 503;
  }
  if (isIsolateError(err)) {
    if (err.code === 'ERR_ISOLATE_HANDLER') return 500;
    if (err.code === 'ERR_ISOLATE_CLOSED') return 503;
  }
  return 502;
}

/**
 * Creates the HTTP front: routes requests by Host and path prefix to workers, places each
 * worker's isolates on hosts by consistent hashing with bounded loads, sheds to the next host
 * when one refuses, and keeps isolates warm within a memory budget.
 * @example const router = createRouter({ workers }); await router.listen({ port: 8787, host: '127.0.0.1' });
 */
export function createRouter(options: RouterOptions): Router {
  const logger = options.logger ?? silentLogger;
  const parsed = routerConfigSchema.safeParse(options);
  if (!parsed.success) {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      `router option ${formatIssues(parsed.error.issues, { max: 1 })}`,
    );
  }
  if (options.launcher && parsed.data.hostKind === 'process') {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      "router option launcher: applies to in-process hosts only, but hostKind is 'process' (each host process makes its own pooled launcher); pass hostKind: 'local' with it, or drop it and set poolSize",
    );
  }
  if (options.launcher && parsed.data.poolSize !== undefined) {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      'router options launcher and poolSize: poolSize sizes the default launcher, which the given launcher replaces; size the pool of the launcher you pass instead',
    );
  }
  const config: RouterConfig = {
    ...parsed.data,
    hosts: parsed.data.hosts ?? availableParallelism(),
    memoryBudgetBytes: parsed.data.memoryBudgetBytes ?? Math.floor(totalmem() * 0.5),
  };
  for (const w of options.workers)
    for (const r of w.routes)
      if (r.pathPrefix && isAdminPath(r.pathPrefix))
        throw new RouterError(
          'ERR_ROUTER_CONFIG',
          `worker ${w.name}: route ${r.pathPrefix} is inside /__pyworkers/, which the router keeps for its status page; pick another path`,
        );
  const table = new RouteTable(
    options.workers.flatMap((w) => w.routes.map((route) => ({ worker: w.name, route }))),
  );
  const workers = new Map<string, HostWorker>();
  for (const w of options.workers) {
    // Concurrent cold starts share one read; nothing is kept afterwards, so a router with many
    // workers holds only the bundles it is starting (the memory budget is for isolates).
    let reading: Promise<Bundle> | undefined;
    const bundle = (): Promise<Bundle> => {
      reading ??= w.bundle().finally(() => {
        reading = undefined;
      });
      return reading;
    };
    workers.set(w.name, {
      name: w.name,
      bundle,
      ...(w.secrets ? { secrets: w.secrets } : {}),
      ...(w.state ? { state: w.state } : {}),
    });
  }
  // Assets are answered here, in the router: a static file never costs an isolate.
  const fronts = new Map<string, AssetsFront>();
  for (const w of options.workers) if (w.assets) fronts.set(w.name, assetsFront(w.assets, logger));
  const counters = new Map<string, Omit<WorkerStats, 'isolates' | 'bytes'>>();
  const counter = (worker: string) => {
    let c = counters.get(worker);
    if (!c) {
      c = { worker, coldStarts: 0, evictions: 0, sheds: 0, requests: 0 };
      counters.set(worker, c);
    }
    return c;
  };
  for (const w of options.workers) counter(w.name);
  const history = new StatusHistory(
    options.workers.map((w) => w.name),
    options.rewriteError,
  );
  const errorCounts = new Map<string, number>();
  const startedAt = Date.now();

  // In-process hosts share one launcher (one pool per Pyodide version in this process).
  // A launcher passed in belongs to the caller, who closes it (dev shares one across routers).
  const ownLauncher =
    !options.launcher && config.hostKind === 'local'
      ? new IsolateLauncher({ poolSize: config.poolSize ?? 1, logger })
      : undefined;
  const launcher: Launcher = options.launcher ??
    ownLauncher ?? {
      launch: () => Promise.reject(new Error('process hosts start their own isolates')),
    };
  // The metrics read the hosts lazily, at scrape time, so they can exist before the fleet.
  const metrics = new RouterMetrics(() => hosts.stats());
  const hosts: HostFleet = new HostFleet(
    config,
    launcher,
    history.tap(logger),
    {
      coldStart(worker) {
        counter(worker).coldStarts++;
        history.coldStart(worker);
        metrics.coldStarts.inc({ worker });
      },
      eviction(worker) {
        counter(worker).evictions++;
        metrics.evictions.inc({ worker });
      },
      shed(worker, _host, reason) {
        counter(worker).sheds++;
        metrics.sheds.inc({ worker, reason });
      },
      alarm(worker, className, id, time) {
        objects.alarm(worker, className, id, time);
      },
    },
    (call) => router.deliver(call),
  );
  // Durable Objects: migrations and stored alarms at start, then every due alarm to its object.
  // An object's event (a stub call, an alarm) counts as in flight, so close() waits for it.
  const runObject: RunObjectEvent = async (worker, target, input) => {
    await objects.ready;
    inflight++;
    try {
      return await hosts.dispatchObject(worker, target, input);
    } finally {
      inflight--;
      if (inflight === 0) drained?.();
    }
  };
  const objects = new RouterObjects(workers, runObject, logger);
  const delivery = {
    dispatch: hosts.dispatch.bind(hosts),
    dispatchEvent: hosts.dispatchEvent.bind(hosts),
    dispatchObject: runObject,
  };
  // One sample a second for the status page's plots, from creation (dev serves through
  // routers it never lets listen) until close.
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling) return;
    sampling = true;
    hosts
      .stats()
      .then((stats) => history.sample(Date.now(), stats))
      .catch(() => {})
      .finally(() => {
        sampling = false;
      });
  }, 1_000).unref();
  let inflight = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
    const path = req.url ?? '/';
    // Before any route: no worker, whatever its routes, is given an admin path.
    if (isAdminPath(path)) {
      await handleAdmin(req, res, {
        token: options.adminToken,
        status: () => router.status(),
        metrics: async () => ({
          body: await metrics.registry.metrics(),
          contentType: metrics.registry.contentType,
        }),
      });
      return undefined;
    }
    const name =
      table.match(req.headers.host, path) ??
      (options.testScheduled && isScheduledPath(path) && workers.size === 1
        ? [...workers.keys()][0]
        : undefined);
    const worker = name ? workers.get(name) : undefined;
    if (!worker) {
      sendText(res, 404, `no worker is routed at ${req.headers.host ?? ''}${path}\n`);
      return undefined;
    }
    if (options.testScheduled && isScheduledPath(path)) {
      const answer = await answerScheduledPath(path, worker.name, router.dispatch, logger);
      sendText(res, answer.status, answer.body);
      return worker.name;
    }
    counter(worker.name).requests++;
    const front = fronts.get(worker.name);
    if (front && !front.workerFirst(new URL(path, 'http://localhost').pathname)) {
      const { body: _none, ...head } = toIsolateRequest(req, new Uint8Array(0));
      const asset = await front.respond(head);
      if (asset) {
        await writeResponse(res, { ...asset, body: asset.body ?? new Uint8Array(0) }, draining);
        return worker.name;
      }
    }
    let bodyError: RouterError | undefined;
    const body = await requestBody(req, config.maxBodyBytes, (err) => {
      bodyError = err;
    });
    let result: Awaited<ReturnType<HostFleet['dispatch']>>;
    try {
      result = await hosts.dispatch(worker, toIsolateRequest(req, body));
    } catch (err) {
      throw bodyError ?? err;
    }
    await writeResponse(res, result.response, draining);
    if (isBodyStream(body)) closeIfUnread(req, res);
    return worker.name;
  }

  const server = createServer(
    {
      maxHeaderSize: config.maxHeaderBytes,
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      // Node checks the two timeouts above on this interval (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    },
    (req, res) => {
      const started = performance.now();
      inflight++;
      let worker: string | undefined;
      handle(req, res)
        .then((name) => {
          worker = name;
        })
        .catch((err: unknown) => {
          const status = statusFor(err);
          const url = req.url ?? '/';
          worker = isAdminPath(url) ? undefined : table.match(req.headers.host, url);
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
          if (status === 413 || draining) res.setHeader('connection', 'close');
          sendText(
            res,
            status,
            status === 413
              ? 'request body too large\n'
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
          (isAdminPath(req.url ?? '/') ? logger.debug : logger.info).call(
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
          if (--inflight === 0) drained?.();
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
    if (!worker || draining) {
      refuseUpgrade(
        socket,
        worker ? 503 : 404,
        worker
          ? 'the router is shutting down\n'
          : `no worker is routed at ${req.headers.host ?? ''}${path}\n`,
      );
      return;
    }
    counter(worker.name).requests++;
    hosts
      .dispatch(worker, toIsolateRequest(req, new Uint8Array(0)))
      .then((result) => upgrade(req, socket, head, result.response))
      .catch((err: unknown) => {
        logger.warn(
          { err: (err as Error)?.message, url: req.url, worker: worker.name },
          'upgrade failed',
        );
        refuseUpgrade(socket, statusFor(err), 'the worker failed to handle this request\n');
      });
  });

  let closing: Promise<void> | undefined;
  let readying: Promise<void> | undefined;
  const router: Router = {
    server,
    ready() {
      // Host processes and their channels are unref'ed (they must not keep this process alive
      // on their own); a caller awaiting this at top level must not see the loop run dry.
      const hold = setInterval(() => {}, 60_000);
      readying ??= hosts.ready([...workers.values()]).catch((err: unknown) => {
        readying = undefined;
        throw err;
      });
      return readying.finally(() => clearInterval(hold));
    },
    async listen({ port, host }) {
      await router.ready();
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
    close() {
      closing ??= (async () => {
        // First: no new cron runs or queue batches (one running finishes and is settled).
        await events?.stop();
        await objects.stop();
        draining = true;
        clearInterval(sampler);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inflight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            new Promise<void>((resolve) => {
              drained = resolve;
            }),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, config.drainTimeoutMs);
            }),
          ]);
          clearTimeout(timer);
        }
        server.closeAllConnections();
        await stopped;
        await hosts.close();
        await ownLauncher?.close();
      })();
      return closing;
    },
    async stats() {
      const perWorker = new Map<string, { isolates: number; bytes: number }>();
      for (const host of await hosts.stats())
        for (const w of host.workers) {
          const s = perWorker.get(w.worker) ?? { isolates: 0, bytes: 0 };
          s.isolates += w.isolates;
          s.bytes += w.bytes;
          perWorker.set(w.worker, s);
        }
      return [...counters.values()].map((c) => ({
        ...c,
        isolates: perWorker.get(c.worker)?.isolates ?? 0,
        bytes: perWorker.get(c.worker)?.bytes ?? 0,
      }));
    },
    async status() {
      const [counts, hostStats] = await Promise.all([router.stats(), hosts.stats()]);
      return {
        draining,
        inflight,
        config,
        ...statusExtras(history, counts, hostStats, errorCounts, startedAt),
      };
    },
    metrics: () => metrics.registry.metrics(),
    async dispatch(name, event) {
      const worker = workers.get(name);
      if (!worker)
        throw new RouterError(
          'ERR_ROUTER_NO_WORKER',
          `no worker named ${JSON.stringify(name)} (known: ${[...workers.keys()].join(', ')})`,
        );
      if (draining) throw new RouterError('ERR_ROUTER_CLOSED', 'the router is shutting down');
      // Counted like a request, so that close() lets a running event finish.
      inflight++;
      try {
        return await hosts.dispatchEvent(worker, event);
      } finally {
        inflight--;
        if (inflight === 0) drained?.();
      }
    },
    async deliver(call) {
      // Not refused while draining: the calling request is in flight and waits for it.
      inflight++;
      try {
        return await deliverCall(
          { workers, hosts: delivery, maxBodyBytes: config.maxBodyBytes },
          call,
        );
      } finally {
        inflight--;
        if (inflight === 0) drained?.();
      }
    },
  };
  const events =
    options.eventSources === false ? undefined : routerEvents(options.workers, router, logger);
  return router;
}
