import type { MessagePort, Worker } from 'node:worker_threads';
import {
  type Body,
  type BodyStream,
  BodyStreams,
  isBodyMessage,
  readWhole,
  STREAM_WINDOW_BYTES,
} from './body-stream.js';
import { bodyBufferPool } from './buffer-pool.js';
import type { Bundle } from './bundle.js';
import { IsolateError } from './errors.js';
import type { EventResultFor, WorkerEvent } from './events.js';
import type { HostCallHandler } from './host-call.js';
import { bootAssets } from './internal/assets.js';
import { answerHostCall } from './internal/host-calls.js';
import { OUTBOUND_HTTP_BINDING, performOutbound } from './internal/outbound-http.js';
import { type PreparedBundle, prepareBundle } from './internal/prepared.js';
import type { FromWorker, MemoryReport, ToWorker } from './internal/protocol.js';
import { spawnWorker } from './internal/spawn.js';
import { errorFromThread, threadFailure } from './internal/thread-error.js';
import { type IsolateLimits, resolveLimits } from './limits.js';
import { type Logger, silentLogger } from './logger.js';
import { isWebSocketMessage, type WebSocketPeer, WebSockets } from './websocket.js';

/** A request handed to an isolate. */
export interface IsolateRequest {
  method: string;
  url: string;
  headers: [string, string][];
  /**
   * The whole body, or a stream the isolate pulls from as the handler reads it. A streamed
   * chunk that spans its whole ArrayBuffer is transferred to the isolate (detached here):
   * yield fresh chunks, not one buffer over and over.
   */
  body: Body;
}

/** What the worker answered, its body read whole. */
export interface IsolateResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** What the worker answered, from `fetch(request, { stream: true })`. */
export interface IsolateStreamingResponse {
  status: number;
  headers: [string, string][];
  /**
   * The whole body (small or complete ones), or a stream of it as the worker produces it:
   * iterate it at the pace the client reads (the worker is held back beyond a small window);
   * leaving the loop early cancels it.
   */
  body: Body;
  /** Status 101: the worker accepted a WebSocket upgrade; relay the client to this peer. */
  webSocket?: WebSocketPeer;
  /**
   * Status 101 with a Durable Object's hibernatable WebSocket (`ctx.acceptWebSocket`, returned
   * through `stub.fetch`): the socket is held by the host where the object lives, under this
   * ref (`<object id>:<socket id>`); the client is to be attached to it there.
   */
  webSocketRef?: string;
}

/** Options of {@link Isolate.fetch}. */
export interface IsolateFetchOptions {
  /** Give the body as the worker streams it (default: read it whole first). */
  stream?: boolean;
}

/** Options of {@link Isolate.start}. */
export interface IsolateOptions {
  logger?: Logger;
  /** Request time and memory limits (defaults: {@link DEFAULT_LIMITS}). */
  limits?: Partial<IsolateLimits>;
  /**
   * Secrets for the worker's `env`, next to the bundle's `vars` (a secret wins on a name
   * clash). They reach the isolate after it is restored and are never stored in a bundle.
   */
  secrets?: Record<string, string>;
  /**
   * Answers the worker's binding calls (`await self.env.KV.get(...)` in Python). Without it,
   * every binding call raises `BindingError` in Python.
   */
  hostCalls?: HostCallHandler;
}

interface Pending {
  // A request's IsolateResponse or an event's WorkerEventResult (the id says which it is).
  resolve: (r: never) => void;
  reject: (e: IsolateError) => void;
  timer: NodeJS.Timeout;
}

/** How an isolate came to life, for diagnostics and benchmarks. */
export interface IsolateBoot {
  /** Milliseconds from asking for the isolate to it being ready. */
  bootMs: number;
  /** Restored from the bundle's snapshot (false: booted plain and ran the top level). */
  restored: boolean;
  /** Took the snapshot's heap in place in a parked isolate (the fast cold start). */
  swapped: boolean;
  /** Milliseconds per phase inside the worker (swap: queued, swap, mount, reseed). */
  phases: Record<string, number>;
}

/**
 * One V8 isolate (a worker_thread) running one Python worker on Pyodide. Over a limit it is
 * terminated: the request gets `ERR_ISOLATE_TIMEOUT` or `ERR_ISOLATE_MEMORY_LIMIT`, the isolate
 * is closed, and its owner starts another (cheap with an {@link IsolateLauncher}).
 * @example const iso = await Isolate.start(bundle); const res = await iso.fetch(req);
 */
export class Isolate {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly bodies: BodyStreams;
  private readonly sockets: WebSockets;
  private closedBy: IsolateError | undefined;
  private end: ((err: IsolateError) => void) | undefined;
  /** Resolves with what ended the isolate (closed, a limit, a crash) once it ended. */
  readonly ended = new Promise<IsolateError>((resolve) => {
    this.end = resolve;
  });
  private lastMemory: MemoryReport;
  private syncPort: MessagePort | undefined;
  /** The open lane: its load (requests in flight on it) and who waits for it to close. */
  private lane: { load: Int32Array; closing?: Promise<void>; closed?: () => void } | undefined;
  /** Milliseconds from spawn (or swap request) to ready. */
  readonly bootMs: number;
  readonly restored: boolean;
  readonly swapped: boolean;
  readonly bootPhases: Record<string, number>;

  /** @internal Isolates are made by {@link Isolate.start} or an {@link IsolateLauncher}. */
  constructor(
    private readonly worker: Worker,
    private readonly bundle: PreparedBundle,
    private readonly limits: IsolateLimits,
    private readonly logger: Logger,
    boot: IsolateBoot & { memory: MemoryReport },
    secrets: Record<string, string> = {},
    private readonly hostCalls?: HostCallHandler,
  ) {
    this.bootMs = boot.bootMs;
    this.restored = boot.restored;
    this.swapped = boot.swapped;
    this.bootPhases = boot.phases;
    this.lastMemory = boot.memory;
    // Request chunks go to the thread in pooled buffers, transferred, and come back once read.
    this.bodies = new BodyStreams(
      (msg, transfer) => worker.postMessage(msg, transfer ?? []),
      true,
      STREAM_WINDOW_BYTES,
      [bodyBufferPool],
    );
    this.sockets = new WebSockets((msg) => worker.postMessage(msg));
    worker.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.kill(
        new IsolateError(
          oom ? 'ERR_ISOLATE_MEMORY_LIMIT' : 'ERR_ISOLATE_CRASHED',
          oom
            ? `isolate for ${bundle.name} ran out of its ${limits.jsHeapMb} MiB JavaScript heap`
            : `isolate for ${bundle.name} crashed: ${err.message}`,
          { cause: err },
        ),
      );
    });
    worker.on('exit', () =>
      this.kill(new IsolateError('ERR_ISOLATE_CRASHED', `isolate for ${bundle.name} exited`)),
    );
    // The env never enters a snapshot: it reaches each isolate once, before any request.
    worker.postMessage({
      type: 'env',
      env: { ...bundle.vars, ...secrets },
      bindings: bundle.bindings,
    } satisfies ToWorker);
  }

  /**
   * Boots an isolate for a bundle in a new worker thread: restores its snapshot when it has one
   * (~0.4 s), boots plain and runs the top level otherwise. For millisecond cold starts use an
   * {@link IsolateLauncher}, which swaps the snapshot into a parked isolate.
   */
  static async start(bundle: Bundle, options: IsolateOptions = {}): Promise<Isolate> {
    return startFresh(await prepareBundle(bundle), options);
  }

  /** Name of the worker this isolate runs. */
  get name(): string {
    return this.bundle.name;
  }

  /** Whether the isolate was closed or terminated (it answers no more requests). */
  get closed(): boolean {
    return this.closedBy !== undefined;
  }

  /** Memory the isolate holds (Python heap + V8 heap), as last reported after a request. */
  get memory(): MemoryReport {
    return { ...this.lastMemory };
  }

  /** Total bytes of {@link Isolate.memory}: what a memory budget should count. */
  memoryBytes(): number {
    return this.lastMemory.wasmBytes + this.lastMemory.jsHeapBytes;
  }

  /**
   * Runs one request through the worker's handler. With `{ stream: true }` the body comes as
   * the worker produces it (server-sent events, large downloads); otherwise it is read whole.
   */
  fetch(request: IsolateRequest, options?: { stream?: false }): Promise<IsolateResponse>;
  fetch(request: IsolateRequest, options: { stream: true }): Promise<IsolateStreamingResponse>;
  fetch(
    request: IsolateRequest,
    options?: IsolateFetchOptions,
  ): Promise<IsolateResponse | IsolateStreamingResponse>;
  async fetch(
    request: IsolateRequest,
    options: IsolateFetchOptions = {},
  ): Promise<IsolateResponse | IsolateStreamingResponse> {
    const { body, ...head } = request;
    const streamed = !(body instanceof Uint8Array);
    const res = await this.send<IsolateStreamingResponse>(
      (id) =>
        streamed
          ? { type: 'request', id, ...head, body: new Uint8Array(0), streamed: true }
          : { type: 'request', id, ...head, body },
      'request',
      streamed
        ? (id, rearm) => {
            // Time spent waiting for a slow client's body is not the handler's: each chunk
            // the handler pulls starts the timeout again.
            void this.bodies.send(id, rearmEach(body, rearm), true);
          }
        : undefined,
    );
    if (options.stream || res.body instanceof Uint8Array) return res;
    return { ...res, body: await readWhole(res.body) };
  }

  /**
   * Runs a `scheduled` or `queue` event through the worker's handler of that name. A handler
   * that raises resolves with `outcome: 'exception'` (and, for a batch, each message's
   * action); a worker without that handler rejects with `ERR_ISOLATE_HANDLER`. An `rpc`
   * event's `fetch` (a Durable Object's, an entrypoint's) whose Response body streams resolves
   * with that tagged Response's `body` a {@link BodyStream}: read it (or leave its loop) to
   * let the isolate's producer go on or be closed.
   * @example await iso.dispatch({ type: 'scheduled', cron: '* * * * *', scheduledTime: Date.now() });
   */
  dispatch<E extends WorkerEvent>(event: E): Promise<EventResultFor<E>> {
    return this.send((id) => ({ type: 'event', id, event }), `${event.type} event`);
  }

  /** Posts a request or event; `after` runs once it is posted, with a way to restart its timeout. */
  private send<T>(
    build: (id: number) => ToWorker,
    what: string,
    after?: (id: number, rearm: () => void) => void,
  ): Promise<T> {
    if (this.closedBy) {
      return Promise.reject(
        new IsolateError('ERR_ISOLATE_CLOSED', `isolate for ${this.bundle.name} is closed`, {
          cause: this.closedBy,
        }),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const expire = (): void => {
        const err = new IsolateError(
          'ERR_ISOLATE_TIMEOUT',
          `${this.bundle.name}: the ${what} ran longer than ${this.limits.requestTimeoutMs} ms; the isolate was terminated`,
        );
        this.settle(id)?.reject(err);
        this.kill(err);
      };
      const pending: Pending = {
        resolve: resolve as (r: never) => void,
        reject,
        timer: setTimeout(expire, this.limits.requestTimeoutMs),
      };
      this.pending.set(id, pending);
      this.worker.postMessage(build(id));
      after?.(id, () => {
        if (this.pending.get(id) !== pending) return;
        clearTimeout(pending.timer);
        pending.timer = setTimeout(expire, this.limits.requestTimeoutMs);
      });
    });
  }

  /** Whether the isolate is alive and runs no request now (so it may be kept for later). */
  get idle(): boolean {
    return this.closedBy === undefined && this.pending.size === 0 && this.laneLoad === 0;
  }

  /**
   * Opens a lane: the thread listens at `lanePath(path, lane)` and says so (with `token`) on the
   * Unix socket at `path`; whoever listens there connects back (saying `token` first) and sends
   * requests straight to the thread, answered there, up to `capacity` at once; `lane` names it
   * to them. Binding calls, limits and memory reports still
   * come here. Close it with {@link Isolate.closeLane} before retiring the isolate.
   */
  openLane(path: string, token: string, lane: number, capacity: number): void {
    if (this.closedBy || this.lane) return;
    const load = new Int32Array(new SharedArrayBuffer(4));
    this.lane = { load };
    this.worker.postMessage({
      type: 'lane-open',
      path,
      token,
      lane,
      worker: this.bundle.name,
      capacity,
      timeoutMs: this.limits.requestTimeoutMs,
      load,
    } satisfies ToWorker);
  }

  /** Requests running on the lane now (0 without one). */
  get laneLoad(): number {
    return this.lane ? Atomics.load(this.lane.load, 0) : 0;
  }

  /** Closes the lane; resolves once every request it took was answered (at once without one). */
  closeLane(): Promise<void> {
    const lane = this.lane;
    if (!lane || this.closedBy) return Promise.resolve();
    lane.closing ??= new Promise<void>((resolve) => {
      lane.closed = resolve;
      this.worker.postMessage({ type: 'lane-close' } satisfies ToWorker);
    });
    return lane.closing;
  }

  /** Stops the isolate; requests still running get `ERR_ISOLATE_CLOSED`. */

  async close(): Promise<void> {
    this.fail(new IsolateError('ERR_ISOLATE_CLOSED', `isolate for ${this.bundle.name} was closed`));
    await this.worker.terminate();
  }

  /** @internal Messages from the worker after it became ready. */
  onMessage(msg: FromWorker): void {
    if (isBodyMessage(msg)) {
      this.bodies.onMessage(msg);
    } else if (isWebSocketMessage(msg)) {
      this.sockets.onMessage(msg);
    } else if (msg.type === 'ws-accept') {
      const response: IsolateStreamingResponse = {
        status: 101,
        headers: msg.headers,
        body: new Uint8Array(0),
        ...(msg.attach !== undefined
          ? { webSocketRef: msg.attach }
          : { webSocket: this.sockets.peer(msg.id) }),
      };
      this.settle(msg.id)?.resolve(response as never);
    } else if (msg.type === 'host-call') {
      const targets = { worker: this.worker, syncPort: this.syncPort };
      // Blocking HTTP clients (requests, httpx.Client, ...) are answered here, not by bindings.
      const handler = msg.binding === OUTBOUND_HTTP_BINDING ? performOutbound : this.hostCalls;
      void answerHostCall(handler, msg, targets, this.bundle.name);
    } else if (msg.type === 'host-port') {
      this.syncPort = msg.port;
    } else if (msg.type === 'response') {
      const response: IsolateResponse = {
        status: msg.status,
        headers: msg.headers,
        body: msg.body,
      };
      this.settle(msg.id)?.resolve(response as never);
    } else if (msg.type === 'response-head') {
      // The request timeout ends here: a stream runs as long as its client reads it.
      const response: IsolateStreamingResponse = {
        status: msg.status,
        headers: msg.headers,
        body: this.bodies.receive(msg.id),
      };
      this.settle(msg.id)?.resolve(response as never);
    } else if (msg.type === 'event-result') {
      if (msg.traceback) this.logger.error({ worker: this.bundle.name }, msg.traceback);
      if (msg.streamed) {
        // A fetch answered with a streamed Response: its body follows, as a response's does.
        const head = (msg.result as { value: { body: unknown } }).value;
        head.body = this.bodies.receive(msg.id);
      }
      this.settle(msg.id)?.resolve(msg.result as never);
    } else if (msg.type === 'error' && msg.id !== undefined) {
      this.logger.error({ worker: this.bundle.name }, msg.traceback ?? msg.error.message);
      this.bodies.cancel(msg.id);
      this.bodies.fail(msg.id, msg.error.message);
      this.settle(msg.id)?.reject(errorFromThread(msg.error, 'ERR_ISOLATE_HANDLER'));
    } else if (msg.type === 'lane-state') {
      if (msg.state === 'open') return;
      const lane = this.lane;
      this.lane = undefined;
      lane?.closed?.();
      if (msg.message)
        this.logger.debug({ worker: this.bundle.name }, `lane closed: ${msg.message}`);
    } else if (msg.type === 'memory') {
      this.lastMemory = msg.memory;
    } else if (msg.type === 'limit') {
      this.logger.error({ worker: this.bundle.name }, msg.message);
      this.kill(
        new IsolateError(
          'ERR_ISOLATE_MEMORY_LIMIT',
          `${this.bundle.name}: ${msg.message}; the isolate was terminated`,
        ),
      );
    }
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }

  /** Terminates the isolate after a limit or crash; every request still running gets `err`. */
  private kill(err: IsolateError): void {
    if (this.closedBy) return;
    this.fail(err);
    void this.worker.terminate();
  }

  private fail(err: IsolateError): void {
    this.closedBy ??= err;
    this.end?.(this.closedBy);
    this.lane?.closed?.();
    this.lane = undefined;
    this.bodies.failAll(err);
    this.sockets.failAll(err.message);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

async function* rearmEach(body: BodyStream, rearm: () => void): BodyStream {
  for await (const chunk of body) {
    rearm();
    yield chunk;
  }
}

/** Boots a new worker thread straight from the bundle's snapshot (no parked isolate). */
export async function startFresh(
  bundle: PreparedBundle,
  options: IsolateOptions = {},
): Promise<Isolate> {
  const logger = options.logger ?? silentLogger;
  // Explicit options win over the worker's own limits from its manifest.
  const limits = resolveLimits({ ...bundle.limits, ...options.limits });
  const t0 = performance.now();
  const assets = await bootAssets();
  let isolate: Isolate | undefined;
  const { worker, first } = spawnWorker(
    {
      type: 'init',
      mode: 'serve',
      name: bundle.name,
      mainModule: bundle.mainModule,
      files: bundle.files,
      sdkFiles: bundle.sdkFiles,
      assets,
      ...(bundle.image ? { image: bundle.image } : {}),
      limits: { memoryBytes: limits.memoryBytes },
    },
    logger,
    (msg) => isolate?.onMessage(msg),
    limits.jsHeapMb,
  );
  const ready = await first;
  if (ready.type !== 'ready') {
    await worker.terminate();
    throw threadFailure(ready, 'ERR_ISOLATE_BOOT', `isolate for ${bundle.name} failed to boot: `);
  }
  isolate = new Isolate(
    worker,
    bundle,
    limits,
    logger,
    { ...ready, bootMs: performance.now() - t0 },
    options.secrets,
    options.hostCalls,
  );
  return isolate;
}
