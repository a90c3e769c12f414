import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AssetsConfig,
  type Bundle,
  type EventResultFor,
  IsolateLauncher,
  type Logger,
  type QueueConsumer,
  type RpcResult,
  silentLogger,
  type WorkerEvent,
} from '@pyworkers/isolate';
import { StatusHistory } from './admin/history.js';
import { type StatusExtras, statusExtras } from './admin/status.js';
import { type AssetsFront, assetsFront } from './assets/static-assets.js';
import type { WorkerState } from './bindings/wiring.js';
import { poolLimits, type RouterConfig, resolveConfig } from './config.js';
import { RouterError } from './errors.js';
import { routerEvents } from './events/router-events.js';
import { HostFleet } from './fleet.js';
import type { HostWorker } from './host/types.js';
import { createFront } from './http-front.js';
import type { Launcher } from './launcher.js';
import { RouterMetrics } from './metrics.js';
import { RouterObjects, type RunObjectEvent } from './objects/router-objects.js';
import { type Route, RouteTable } from './routes.js';
import { deliverCall } from './services/deliver.js';
import { ServiceStreams } from './services/response-streams.js';
import { ServiceSockets } from './services/service-sockets.js';
import type { ForwardedCall } from './services/types.js';

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
  /** Response bodies of service fetches open now (in the router and its host processes). */
  serviceStreams: number;
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

/**
 * Creates the HTTP front: routes requests by Host and path prefix to workers, places each
 * worker's isolates on hosts by consistent hashing with bounded loads, sheds to the next host
 * when one refuses, and keeps isolates warm within a memory budget.
 * @example const router = createRouter({ workers }); await router.listen({ port: 8787, host: '127.0.0.1' });
 */
export function createRouter(options: RouterOptions): Router {
  const logger = options.logger ?? silentLogger;
  const config = resolveConfig(options);
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
      ? new IsolateLauncher({ ...poolLimits(config), logger })
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
  // Response bodies of service fetches their callers are reading (host processes keep their own).
  const streams = new ServiceStreams('r');
  // WebSockets service fetches got back, until the caller's 101 answer carries them.
  const sockets = new ServiceSockets();
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

  const server = createFront({
    config,
    logger,
    adminToken: options.adminToken,
    testScheduled: options.testScheduled,
    table,
    workers,
    fronts,
    hosts: {
      dispatch: hosts.dispatch.bind(hosts),
      // A service fetch's socket is held here; a Durable Object's by the object's host.
      attachSocket: async (ref) =>
        ServiceSockets.owns(ref) ? sockets.take(ref) : hosts.attachSocket(ref),
    },
    metrics,
    history,
    errorCounts,
    router: {
      status: () => router.status(),
      dispatch: (name, event) => router.dispatch(name, event),
    },
    countRequest: (worker) => {
      counter(worker).requests++;
    },
    flight: {
      begin: () => {
        inflight++;
      },
      end: () => {
        if (--inflight === 0) drained?.();
      },
      get draining() {
        return draining;
      },
    },
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
        streams.close();
        sockets.close();
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
        serviceStreams: hostStats.reduce((n, h) => n + (h.serviceStreams ?? 0), streams.size),
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
        return await deliverCall({ workers, hosts: delivery, streams, sockets }, call);
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
