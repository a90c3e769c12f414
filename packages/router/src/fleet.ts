import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  EventResultFor,
  IsolateRequest,
  Logger,
  RpcResult,
  WebSocketPeer,
  WorkerEvent,
} from '@pyworkers/isolate';
import { hostBindings } from './bindings/open-store.js';
import type { BindingsWiring } from './bindings/wiring.js';
import { poolLimits, type RouterConfig } from './config.js';
import { RouterError } from './errors.js';
import { createEvictionPolicy } from './eviction.js';
import { ChildHost } from './host/child-host.js';
import { IdleCoreGate } from './host/idle-cores.js';
import { LocalHost } from './host/local-host.js';
import type { HostProcessConfig } from './host/protocol.js';
import { findBwrap } from './host/sandbox.js';
import type { HostEvents, HostResult, HostStats, HostWorker, IsolateHost } from './host/types.js';
import type { Launcher } from './launcher.js';
import { LoadTracker } from './load.js';
import type { ObjectEventInput, ObjectTarget } from './objects/object-host.js';
import { objectHostIndex } from './objects/placement.js';
import { BoundedLoadPlacement } from './placement.js';
import type { ForwardCall } from './services/types.js';

/** What the fleet reports as it happens (the router turns it into counters and metrics). */
export interface FleetListener {
  coldStart(worker: string): void;
  eviction(worker: string): void;
  shed(worker: string, host: number, reason: 'inflight' | 'memory'): void;
  /** A Durable Object's alarm was set, moved or cleared (null) (the router schedules it). */
  alarm?(worker: string, className: string, id: string, scheduledTime: number | null): void;
}

/** A response from the host that ran the request. */
export type FleetResponse = Extract<HostResult, { kind: 'response' }>;
type Refused = Extract<HostResult, { kind: 'refused' }>;

/**
 * The router's isolate hosts and how requests are spread over them: bounded-load placement on
 * the hosts' in-flight counts, preferring hosts where the worker is warm, and walking the ring
 * when a host refuses.
 */
/** The sandbox of host processes, checked once: a missing `bwrap` is a config error. */
function sandboxFor(config: RouterConfig): HostProcessConfig['sandbox'] {
  if (config.sandbox === 'none') return undefined;
  if (config.hostKind !== 'process') {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      "sandbox 'bwrap' applies to host processes: set hostKind 'process' (the default)",
    );
  }
  const bwrap = findBwrap();
  if (!bwrap) {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      "sandbox 'bwrap' needs bubblewrap on PATH: install it (apt-get install bubblewrap) or set sandbox 'none'",
    );
  }
  return {
    bwrap,
    writable: config.sandboxWritable,
    readable: config.sandboxReadable,
    seccomp: config.sandboxSeccomp,
  };
}

export class HostFleet {
  private readonly hosts: IsolateHost[] = [];
  /** Where the host processes' peer sockets are (host/peer-channel.ts), if they have them. */
  private readonly peerDir: string | undefined;
  private readonly placement: BoundedLoadPlacement;
  private readonly loads: LoadTracker;
  // Isolates per worker per host, from the hosts' events.
  private readonly warmOn = new Map<string, Int32Array>();
  /** Bindings of the in-process hosts (host processes open their own). */
  private readonly bindings: BindingsWiring;

  constructor(
    config: RouterConfig,
    /** Starts the isolates of in-process hosts (process hosts make their own). */
    launcher: Launcher,
    private readonly logger: Logger,
    private readonly listener: FleetListener,
    /** Delivers the isolates' calls on service bindings (the router's `deliver`). */
    forward?: ForwardCall,
  ) {
    this.bindings = hostBindings(logger);
    const events: HostEvents = {
      coldStart: (worker, host) => {
        this.warm(worker, host, 1);
        listener.coldStart(worker);
      },
      eviction: (worker, host) => {
        this.warm(worker, host, -1);
        listener.eviction(worker);
      },
      lost: (worker, host) => this.warm(worker, host, -1),
      alarm: (worker, className, id, time) => listener.alarm?.(worker, className, id, time),
      hostReplaced: (host) => {
        for (const counts of this.warmOn.values()) counts[host] = 0;
        logger.warn({ host }, 'isolate host replaced');
      },
    };
    const perHost = {
      budgetBytes: Math.floor(config.memoryBudgetBytes / config.hosts),

      concurrency: config.concurrency,
      maxInflight: config.maxInflightPerHost,
      // A hot worker's isolates spread over this host's share of the cores.
      spreadAt: config.spreadAt,
      spreadTo: Math.max(1, Math.ceil(availableParallelism() / config.hosts)),
    };
    const sandbox = sandboxFor(config);
    // Host processes call each other's Durable Objects directly (host/peer-channel.ts), on
    // sockets in a directory only this user can enter; not inside the sandbox (its mounts
    // would need the directory too). PYWORKERS_PEER_CHANNEL=0 sends every call via the router.
    // A Unix socket path has room for ~107 bytes: a long TMPDIR means no peer channel.
    const peers =
      config.hostKind === 'process' &&
      config.hosts > 1 &&
      !sandbox &&
      process.env.PYWORKERS_PEER_CHANNEL !== '0' &&
      join(tmpdir(), 'pyw-peers-XXXXXX', `h${config.hosts}.sock`).length < 100
        ? mkdtempSync(join(tmpdir(), 'pyw-peers-'))
        : undefined;
    this.peerDir = peers;
    // How long a Durable Object stays live with nothing to do (tests set it short).
    const idle = Number(process.env.PYWORKERS_DO_IDLE_MS);
    const objectIdleMs = idle > 0 ? { objectIdleMs: idle } : {};
    // How long a service fetch's body may go unread (host processes do not see our env).
    const streamIdle = Number(process.env.PYWORKERS_SERVICE_STREAM_IDLE_MS);
    const gate = new IdleCoreGate();
    for (let id = 0; id < config.hosts; id++) {
      // The isolate cap is split exactly: a host whose share is 0 refuses cold starts, and
      // they go to the next host on the ring.
      const cap = config.maxIsolates;
      const share =
        cap === undefined
          ? {}
          : { maxIsolates: Math.floor(cap / config.hosts) + (id < cap % config.hosts ? 1 : 0) };
      this.hosts.push(
        config.hostKind === 'process'
          ? new ChildHost(
              {
                id,
                ...perHost,
                ...share,
                eviction: config.eviction,
                ...poolLimits(config),
                ...(sandbox ? { sandbox } : {}),
                ...objectIdleMs,
                ...(streamIdle > 0 ? { serviceStreamIdleMs: streamIdle } : {}),
                hosts: config.hosts,
                ...(peers
                  ? {
                      peers: Array.from({ length: config.hosts }, (_, i) =>
                        join(peers, `h${i}.sock`),
                      ),
                    }
                  : {}),
              },
              logger,
              events,
              forward,
            )
          : new LocalHost({
              id,
              ...perHost,
              ownLanes: true,
              // The router's main thread is one of this host's busy threads: a hot worker
              // spreads only when a core was idle while it was hot (host/idle-cores.ts).
              maySpread: (worker) => gate.maySpread(worker),
              ...share,
              launcher,
              logger,
              events,
              policy: createEvictionPolicy(config.eviction),
              bindings: this.bindings,
              ...(forward ? { forward } : {}),
              ...objectIdleMs,
              onAlarm: (worker, className, objectId, time) =>
                listener.alarm?.(worker, className, objectId, time),
            }),
      );
    }
    this.placement = new BoundedLoadPlacement(config.hosts, {
      eps: config.eps,
      minBound: config.concurrency,
    });
    this.loads = new LoadTracker(config.hosts, { tau: 0 });
  }

  private warm(worker: string, host: number, delta: number): void {
    let counts = this.warmOn.get(worker);
    if (!counts) {
      counts = new Int32Array(this.hosts.length);
      this.warmOn.set(worker, counts);
    }
    counts[host] = Math.max(0, counts[host]! + delta);
  }

  /** Runs a request on the first host that takes it; on the first choice when all refuse. */
  dispatch(worker: HostWorker, request: IsolateRequest): Promise<FleetResponse> {
    return this.place(worker, (host, force) => host.fetch(worker, request, { force }));
  }

  /** Runs a `scheduled` or `queue` event, placed exactly like a request of the worker. */
  async dispatchEvent<E extends WorkerEvent>(
    worker: HostWorker,
    event: E,
  ): Promise<EventResultFor<E>> {
    const done = await this.place(worker, (host, force) => host.dispatch(worker, event, { force }));
    return done.result as EventResultFor<E>;
  }

  /**
   * Runs one event of a Durable Object on the host its id hashes to: every event of one id, from
   * any worker or host process, reaches that one host, which keeps the one live instance.
   */
  async dispatchObject(
    worker: HostWorker,
    target: ObjectTarget,
    input: ObjectEventInput,
  ): Promise<RpcResult> {
    const host = objectHostIndex(target.id, this.hosts.length);
    this.loads.add(host, 1);
    try {
      const done = await this.hosts[host]!.dispatchObject(worker, target, input);
      if (done.kind !== 'event')
        throw new RouterError(
          'ERR_ROUTER_HOST_CRASHED',
          `host ${host} refused a Durable Object event`,
        );
      return done.result as RpcResult;
    } finally {
      this.loads.add(host, -1);
    }
  }

  /**
   * The client end of a Durable Object's hibernatable WebSocket (`ref`: `<object id>:<socket
   * id>`, from the 101 answer of its `stub.fetch`), on the host the object's id hashes to.
   */
  attachSocket(ref: string): Promise<WebSocketPeer> {
    const id = ref.slice(0, Math.max(0, ref.indexOf(':')));
    return this.hosts[objectHostIndex(id, this.hosts.length)]!.attachSocket(ref);
  }

  private async place<R extends { kind: string }>(
    worker: HostWorker,
    run: (host: IsolateHost, force: boolean) => Promise<R | Refused>,
  ): Promise<R> {
    const tried = new Set<number>();
    const warm = this.warmOn.get(worker.name);
    const isWarm = (host: number): boolean => (warm?.[host] ?? 0) > 0;
    let first = -1;
    for (;;) {
      const pick = this.placement.pick(worker.name, this.loads, tried, isWarm);
      const force = pick < 0;
      const host = force ? first : pick;
      if (first < 0) first = host;
      this.loads.add(host, 1);
      let result: R | Refused;
      try {
        result = await run(this.hosts[host]!, force);
      } finally {
        this.loads.add(host, -1);
      }
      if (result.kind !== 'refused') return result as R;
      const { reason } = result as Refused;
      tried.add(host);
      this.listener.shed(worker.name, host, reason);
      this.logger.debug({ worker: worker.name, host, reason }, 'host refused request');
    }
  }

  /**
   * Gives every host every worker's bundle (each host decodes it once, now) and waits until
   * each host's launcher is warm (its parked isolates booted): after this, no request waits for
   * a decode or a boot that could have happened earlier: each host parks an isolate for each
   * worker whose first cold start will likely land on it (within its pool's maximum).
   */
  async ready(workers: HostWorker[]): Promise<void> {
    await Promise.all(
      this.hosts.map(async (host) => {
        await Promise.all(
          workers.map((w) =>
            // A bundle that cannot be loaded fails its own worker's requests, not the router.
            host.prepare(w).catch((err: unknown) => {
              this.logger.error(
                { worker: w.name, host: host.id, err: (err as Error)?.message },
                'bundle cannot be loaded',
              );
            }),
          ),
        );
        // Each worker's first cold start lands on one host: about its share of them each.
        await host.ready(Math.ceil(workers.length / this.hosts.length));
      }),
    );
  }

  stats(): Promise<HostStats[]> {
    return Promise.all(this.hosts.map((h) => h.stats()));
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.close()));
    await this.bindings.close();
    if (this.peerDir) rmSync(this.peerDir, { recursive: true, force: true });
  }
}
