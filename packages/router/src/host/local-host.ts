import type { IsolateRequest, Logger, WebSocketPeer, WorkerEvent } from '@pyworkers/isolate';
import type { BindingsWiring } from '../bindings/wiring.js';
import { RouterError } from '../errors.js';
import type { EvictionPolicy } from '../eviction.js';
import { estimateIsolateBytes, type IsolateHandle, type Launcher } from '../launcher.js';
import {
  type AlarmListener,
  type ObjectEventInput,
  ObjectsHost,
  type ObjectTarget,
} from '../objects/object-host.js';
import { answerBody, withAnswerBody } from '../services/answer-bodies.js';
import { serviceHostCalls } from '../services/host-calls.js';
import { OpenBodies } from '../services/open-bodies.js';
import type { ForwardCall } from '../services/types.js';
import { type WarmIsolate, WarmSet } from '../warm-set.js';
import { isCrash, untilClosed, untilDone } from './busy-until.js';
import { onLane } from './child-lanes.js';
import type { LaneServer } from './lanes.js';
import { HostLanes, type LanedIsolate, ownLaneServer } from './local-lanes.js';
import { runObjectEvent } from './local-objects.js';
import { Retiring } from './retiring.js';
import type {
  HostEventResult,
  HostEvents,
  HostFetchOptions,
  HostResult,
  HostStats,
  HostWorker,
  IsolateHost,
} from './types.js';

/** Options of {@link LocalHost}. */
export interface LocalHostOptions {
  id: number;
  launcher: Launcher;
  logger: Logger;
  events: HostEvents;
  policy: EvictionPolicy;
  /** Memory this host's isolates may hold together. */
  budgetBytes: number;
  /** Isolates this host may hold at once (default: no limit but memory). */
  maxIsolates?: number;
  /** Requests one isolate runs at once before its worker gets another isolate. */
  concurrency: number;
  /** A worker whose least busy isolate runs this many requests gets another (default: never). */
  spreadAt?: number;
  /** Most isolates one worker spreads over here (default 1). */
  spreadTo?: number;
  /** In-flight requests past which the host refuses new ones. */
  maxInflight: number;
  /** Reported in stats: `process` when this host runs inside a child process. */
  kind?: 'local' | 'process';
  /** Answers the isolates' binding calls (none: binding calls raise in Python). Its owner closes it. */
  bindings?: BindingsWiring;
  /** Delivers the isolates' calls on service bindings (the router's `deliver`). */
  forward?: ForwardCall;
  /** Told when a Durable Object's alarm is set, moved or cleared (the router schedules it). */
  onAlarm?: AlarmListener;
  /** Idle time after which a Durable Object is evicted (default 60 s). */
  objectIdleMs?: number;
  /**
   * Where this host process's router takes lanes (./lanes.ts): each isolate, once it answered
   * `LANE_AFTER` requests (./local-lanes.ts), opens one there, and the router sends it plain
   * requests itself.
   * None: every request comes here.
   */
  lanes?: { path: string; token: string };
  /** An isolate with a lane was lost (crashed, killed at a limit): its lane's requests fail with `err`. */
  laneLost?: (lane: number, err: unknown) => void;
  /**
   * The host runs in the router's process (no `lanes`): its warm isolates open lanes to a lane
   * server of its own, and its plain requests go on them (a Unix socket, JSON-head frames)
   * instead of `postMessage` (router README, "HTTP", session 14).
   */
  ownLanes?: boolean;
  /** Asked before a hot worker spreads over another isolate (default: it may). */
  maySpread?: (worker: string) => boolean;
}

type Ran<T> =
  | { kind: 'done'; value: T; coldStart: boolean }
  | Extract<HostResult, { kind: 'refused' }>;

interface HostedIsolate extends WarmIsolate, LanedIsolate {
  started: Promise<IsolateHandle>;
  /** Requests this host runs on it; `inflight` adds those on its lane. */
  own: number;
  /** Streamed bodies of its service fetches, cancelled when it goes. */
  bodies: OpenBodies;
}

// Before a worker's bundle is read, a new isolate is assumed to be this big.
const DEFAULT_ISOLATE_BYTES = 72 * 1024 * 1024;

/**
 * Isolates in this process (worker_threads): keeps them warm within a memory budget, starts
 * one more when a worker's isolates are all at the concurrency limit, shares a cold start
 * between the requests that arrive while it runs, and refuses work when overloaded.
 */
export class LocalHost implements IsolateHost {
  readonly id: number;
  private readonly warm: WarmSet<HostedIsolate>;
  private readonly sizes = new Map<string, number>();
  private inflight = 0;
  private closed = false;
  /** Isolates with a lane, by lane number (the router names a lane to kill by it). */
  private readonly lanes: HostLanes<HostedIsolate>;
  /** Evicted isolates being retired (their lane closing first), by worker. */
  private readonly retiring: Retiring;

  /** Durable Objects live on this host, pinned to isolates (none without bindings). */
  private readonly objects: ObjectsHost<HostedIsolate> | undefined;

  /** The lanes of this host's isolates, when it runs in the router's process (`ownLanes`). */
  private readonly laneServer: LaneServer | undefined;

  constructor(private readonly options: LocalHostOptions) {
    this.id = options.id;
    this.retiring = new Retiring(options.launcher);
    // In the router's process: this host's isolates open their lanes to a server of its own.
    this.laneServer = options.ownLanes
      ? ownLaneServer(options.id, options.logger, (lane, message) => this.killLane(lane, message), {
          at: options.spreadAt ?? Number.POSITIVE_INFINITY,
          to: options.spreadTo ?? 1,
          ...(options.maySpread ? { may: options.maySpread } : {}),
        })
      : undefined;
    const server = this.laneServer;
    this.lanes = new HostLanes(
      options.lanes ?? (server && { path: server.path, token: server.token }),
      options.concurrency,
      (iso, err) => this.drop(iso, err),
      options.laneLost ?? (server && ((lane, err) => server.lost(lane, err as Error))),
    );
    this.objects = options.bindings
      ? new ObjectsHost<HostedIsolate>({
          wiring: options.bindings,
          logger: options.logger,
          ...(options.onAlarm ? { onAlarm: options.onAlarm } : {}),
          ...(options.objectIdleMs ? { idleMs: options.objectIdleMs } : {}),
          deliver: (worker, target, input) => this.dispatchObject(worker, target, input),
          evict: (iso, worker, target) => {
            void iso.handle
              ?.dispatch?.({
                type: 'rpc',
                method: '',
                args: [],
                object: { ...target, token: '', op: 'evict' },
              } as unknown as WorkerEvent)
              .catch(() => {});
            this.options.logger.debug({ worker, className: target.className }, 'object evicted');
          },
        })
      : undefined;
    this.warm = new WarmSet(
      options.budgetBytes,
      options.policy,
      options.concurrency,
      options.maxIsolates,
      options.spreadAt,
      options.spreadTo,
      options.maySpread,
    );
  }

  async fetch(
    worker: HostWorker,
    request: IsolateRequest,
    options: HostFetchOptions,
  ): Promise<HostResult> {
    const lane = this.closed ? undefined : onLane(this.laneServer, worker.name, request);
    if (lane) return { kind: 'response', response: await lane, coldStart: false };
    const ran = await this.run(worker, options, async (handle, keep, drop) => {
      const response = await handle.fetch(request, { stream: true });
      // An accepted WebSocket keeps its isolate busy until it closes.
      if (response.webSocket)
        return { ...response, webSocket: untilClosed(response.webSocket, keep()) };
      if (response.body instanceof Uint8Array) return response;
      // A streaming isolate is busy until its body ends: it is neither evicted nor counted idle.
      return { ...response, body: untilDone(response.body, keep(), drop) };
    });
    return ran.kind === 'refused'
      ? ran
      : { kind: 'response', response: ran.value, coldStart: ran.coldStart };
  }

  async dispatch(
    worker: HostWorker,
    event: WorkerEvent,
    options: HostFetchOptions,
  ): Promise<HostEventResult> {
    const ran = await this.run(worker, options, async (handle, keep, drop) => {
      if (!handle.dispatch)
        throw new RouterError(
          'ERR_ROUTER_NO_EVENTS',
          `the isolate launcher of ${worker.name} returns isolates that cannot run ${event.type} events`,
        );
      const result = await handle.dispatch(event);
      // An entrypoint's fetch answered with a streamed body: busy until it ends, as a fetch.
      const body = answerBody(result);
      return body ? withAnswerBody(result, untilDone(body, keep(), drop)) : result;
    });
    return ran.kind === 'refused'
      ? ran
      : { kind: 'event', result: ran.value, coldStart: ran.coldStart };
  }

  /**
   * Runs one event of the Durable Object `target` on the isolate it is pinned to here (the
   * router sent every event of this id to this host), pinning it on its first event. An alarm
   * runs only if it is still due, and is settled in the object's file here (cleared, or retried
   * with backoff); the result's value is then the next time it is due, or null.
   */
  async dispatchObject(
    worker: HostWorker,
    target: ObjectTarget,
    input: ObjectEventInput,
  ): Promise<HostEventResult> {
    const objects = this.objects;
    if (!objects)
      throw new RouterError(
        'ERR_ROUTER_CONFIG',
        `host ${this.id} has no bindings wired: Durable Object ${target.className} cannot run here`,
      );
    return runObjectEvent(
      objects,
      (work, pin) => this.run(worker, { force: true }, work, pin),
      worker,
      target,
      input,
    );
  }

  /**
   * The client end of a Durable Object's hibernatable WebSocket held here (`ref` from the 101
   * answer of its `stub.fetch`): the router relays the real client to it.
   */
  async attachSocket(ref: string): Promise<WebSocketPeer> {
    if (!this.objects)
      throw new RouterError('ERR_ROUTER_CONFIG', `host ${this.id} holds no Durable Objects`);
    return this.objects.sockets.attach(ref);
  }

  /**
   * Whether `worker` has an isolate here with room for one more request: then a call to it
   * from another worker on this host may run here, without a trip through the router.
   */
  hasWarm(worker: string): boolean {
    return !this.closed && this.warm.hasRoom(worker);
  }

  /** Runs `work` on a warm isolate of `worker`, or one started for it, unless overloaded. */
  private async run<T>(
    worker: HostWorker,
    { force }: HostFetchOptions,
    work: (
      handle: IsolateHandle,
      keep: () => () => void,
      drop: (err: unknown) => void,
    ) => Promise<T>,
    /** A Durable Object's isolate: `pick` its pinned one (if any); `picked` pins it. */
    pin?: { pick: () => HostedIsolate | undefined; picked: (iso: HostedIsolate) => void },
  ): Promise<Ran<T>> {
    if (this.closed)
      throw new RouterError('ERR_ROUTER_CLOSED', `isolate host ${this.id} is shutting down`);
    if (!force && this.inflight >= this.options.maxInflight)
      return { kind: 'refused', reason: 'inflight' };
    const pinned = pin?.pick();
    let iso = pinned && !pinned.dropped ? pinned : this.warm.acquire(worker.name);
    let coldStart = false;
    if (!iso) {
      const bytes = this.sizes.get(worker.name) ?? DEFAULT_ISOLATE_BYTES;
      this.evict(this.warm.evictFor(bytes, 1));
      if (!this.warm.fits(bytes, 1)) {
        // Over budget with nothing idle to evict: another host may have room. When every
        // host refused, run on a busy isolate of this worker rather than grow further (or
        // start one past the budget when it has none).
        const busy = this.warm.isolates(worker.name);
        if (!force) return { kind: 'refused', reason: 'memory' };
        iso = busy.reduce<HostedIsolate | undefined>(
          (a, b) => (!a || b.inflight < a.inflight ? b : a),
          undefined,
        );
      }
      if (!iso) {
        iso = this.start(worker, bytes);
        coldStart = true;
      }
    }
    pin?.picked(iso);
    iso.own++;
    this.inflight++;
    const release = (): void => {
      iso.own--;
      this.inflight--;
      this.lanes.answered(iso);
      // The isolate's latest report (resident pages, as the OS counts them) replaces its size.
      const measured = iso.handle?.memoryBytes?.();
      if (measured && measured !== iso.bytes) this.warm.resize(iso, measured);
      if (!this.warm.fits(0, 0)) this.evict(this.warm.evictFor(0, 0));
    };
    // `keep()`: the work goes on after it returns (a streamed body); release when it ends.
    let kept = false;
    const keep = (): (() => void) => {
      kept = true;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        release();
      };
    };
    try {
      const handle = await iso.started;
      const drop = (err: unknown): void => this.drop(iso!, err);
      return { kind: 'done', value: await work(handle, keep, drop), coldStart };
    } catch (err) {
      if (isCrash(err)) this.drop(iso, err);
      throw err;
    } finally {
      if (!kept) release();
    }
  }

  private start(worker: HostWorker, bytes: number): HostedIsolate {
    const { launcher, logger, events } = this.options;
    const launch = async (iso: HostedIsolate): Promise<IsolateHandle> => {
      const t0 = performance.now();
      const bundle = await worker.bundle();
      // An isolate of this worker evicted a moment ago may still be closing its lane: once
      // retired, the launcher may give it back to this cold start (cheaper than a swap).
      const retiring = this.retiring.wait(worker.name);
      if (retiring) await retiring;
      if (!this.sizes.has(worker.name)) {
        this.sizes.set(worker.name, estimateIsolateBytes(bundle));
        this.warm.resize(iso, estimateIsolateBytes(bundle));
      }
      const bindingCalls = serviceHostCalls(
        worker.name,
        bundle,
        this.options.forward,
        this.options.bindings?.handlerFor(worker, bundle),
      );
      const objectCalls = this.objects
        ? this.objects.hostCalls(worker, bindingCalls)
        : bindingCalls;
      const hostCalls = objectCalls && iso.bodies.wrap(objectCalls);
      const handle = await launcher.launch(bundle, {
        logger,
        ...(worker.secrets ? { secrets: worker.secrets } : {}),
        ...(hostCalls ? { hostCalls } : {}),
      });
      const measured = handle.memoryBytes?.();
      if (measured) {
        this.sizes.set(worker.name, measured);
        this.warm.resize(iso, measured);
      }
      // Where a cold start's time went (debug level): e.g. a swap's phases inside the isolate.
      logger.debug(
        {
          worker: worker.name,
          host: this.id,
          ms: Math.round((performance.now() - t0) * 100) / 100,
          swapped: handle.swapped === true,
          ...(handle.bootPhases ? { phases: rounded(handle.bootPhases) } : {}),
        },
        'isolate started',
      );
      return handle;
    };
    const iso = {
      worker: worker.name,
      bytes,
      own: 0,
      served: 0,
      get inflight(): number {
        return this.own + (this.handle?.laneLoad ?? 0);
      },
      ready: false,
      dropped: false,
      bodies: new OpenBodies(),
    } as HostedIsolate;
    iso.started = launch(iso);
    this.warm.add(iso);
    events.coldStart(worker.name, this.id);
    iso.started.then(
      (handle) => {
        iso.handle = handle;
        iso.ready = true;
        if (iso.dropped || this.closed) void handle.close().catch(() => {});
      },
      (err: unknown) => this.drop(iso, err),
    );
    return iso;
  }

  /** A request on lane `lane` ran past its timeout (the router saw it): the isolate goes. */
  killLane(lane: number, message: string): void {
    this.lanes.kill(lane, message);
  }

  /** Forgets an isolate that crashed or failed to start; the next request starts a new one. */
  private drop(iso: HostedIsolate, err: unknown): void {
    if (iso.dropped) return;
    iso.dropped = true;
    this.lanes.lose(iso, err);
    this.objects?.isolateGone(iso);
    this.warm.remove(iso);
    this.options.events.lost(iso.worker, this.id);
    this.options.logger.warn(
      { worker: iso.worker, host: this.id, err: (err as Error)?.message },
      'isolate lost',
    );
    void iso.handle?.close().catch(() => {});
    iso.bodies.cancelAll();
  }

  private evict(victims: HostedIsolate[]): void {
    for (const iso of victims) {
      iso.dropped = true;
      this.lanes.forget(iso);
      this.objects?.isolateGone(iso);
      this.options.events.eviction(iso.worker, this.id);
      this.options.logger.debug({ worker: iso.worker, host: this.id }, 'isolate evicted');
      if (iso.handle) this.retiring.retire(iso.worker, iso.handle);
      iso.bodies.cancelAll();
    }
  }

  async prepare(worker: HostWorker): Promise<void> {
    const { launcher } = this.options;
    if (launcher.prepare) await launcher.prepare(await worker.bundle());
  }

  async ready(firstStarts: number): Promise<void> {
    const { launcher } = this.options;
    await launcher.warm?.();
    await launcher.anticipate?.(firstStarts);
  }

  async stats(): Promise<HostStats> {
    const pool = this.options.launcher.stats?.();
    return {
      ...(pool
        ? {
            pool: {
              parked: pool.parked,
              booting: pool.booting,
              poolTarget: pool.poolTarget,
              swaps: pool.swaps,
              freshStarts: pool.freshStarts,
              misses: pool.misses,
            },
          }
        : {}),
      id: this.id,
      kind: this.options.kind ?? 'local',
      pid: process.pid,
      // Requests the router runs on lanes count too.
      inflight: this.inflight + this.lanes.load(),
      ...this.laneServer?.stats(),
      usedBytes: this.warm.usedBytes,
      budgetBytes: this.warm.budgetBytes,
      workers: this.warm.workers().map((worker) => {
        const list = this.warm.isolates(worker);
        return {
          worker,
          isolates: list.length,
          bytes: list.reduce((s, i) => s + i.bytes, 0),
          inflight: list.reduce((s, i) => s + i.inflight, 0),
        };
      }),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.laneServer?.close();
    this.objects?.close();
    const all = this.warm.all();
    for (const iso of all) {
      iso.dropped = true;
      this.warm.remove(iso);
      iso.bodies.cancelAll();
    }
    await Promise.all(
      all.map((iso) =>
        iso.started.then(
          (h) => h.close(),
          () => {},
        ),
      ),
    );
  }
}

/** Milliseconds to two decimals, for a log line. */
function rounded(phases: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v * 100) / 100]));
}
