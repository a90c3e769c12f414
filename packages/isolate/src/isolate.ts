import type { MessagePort, Worker } from 'node:worker_threads';
import type { Bundle } from './bundle.js';
import { IsolateError } from './errors.js';
import type { EventResultFor, WorkerEvent } from './events.js';
import type { HostCallHandler } from './host-call.js';
import { bootAssets } from './internal/assets.js';
import { answerHostCall } from './internal/host-calls.js';
import { type PreparedBundle, prepareBundle } from './internal/prepared.js';
import type { FromWorker, MemoryReport, ToWorker } from './internal/protocol.js';
import { spawnWorker } from './internal/spawn.js';
import { type IsolateLimits, resolveLimits } from './limits.js';
import { type Logger, silentLogger } from './logger.js';

/** A request handed to an isolate. */
export interface IsolateRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array;
}

/** What the worker answered. */
export interface IsolateResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
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
  private closedBy: IsolateError | undefined;
  private lastMemory: MemoryReport;
  private syncPort: MessagePort | undefined;
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
    worker.postMessage({ type: 'env', env: { ...bundle.vars, ...secrets } } satisfies ToWorker);
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

  /** Runs one request through the worker's handler. */
  fetch(request: IsolateRequest): Promise<IsolateResponse> {
    return this.send((id) => ({ type: 'request', id, ...request }), 'request');
  }

  /**
   * Runs a `scheduled` or `queue` event through the worker's handler of that name. A handler
   * that raises resolves with `outcome: 'exception'` (and, for a batch, each message's
   * action); a worker without that handler rejects with `ERR_ISOLATE_HANDLER`.
   * @example await iso.dispatch({ type: 'scheduled', cron: '* * * * *', scheduledTime: Date.now() });
   */
  dispatch<E extends WorkerEvent>(event: E): Promise<EventResultFor<E>> {
    return this.send((id) => ({ type: 'event', id, event }), `${event.type} event`);
  }

  private send<T>(build: (id: number) => ToWorker, what: string): Promise<T> {
    if (this.closedBy) {
      return Promise.reject(
        new IsolateError('ERR_ISOLATE_CLOSED', `isolate for ${this.bundle.name} is closed`, {
          cause: this.closedBy,
        }),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new IsolateError(
          'ERR_ISOLATE_TIMEOUT',
          `${this.bundle.name}: the ${what} ran longer than ${this.limits.requestTimeoutMs} ms; the isolate was terminated`,
        );
        this.settle(id)?.reject(err);
        this.kill(err);
      }, this.limits.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (r: never) => void, reject, timer });
      this.worker.postMessage(build(id));
    });
  }

  /** Stops the isolate; requests still running get `ERR_ISOLATE_CLOSED`. */
  /** Whether the isolate is alive and runs no request now (so it may be kept for later). */
  get idle(): boolean {
    return this.closedBy === undefined && this.pending.size === 0;
  }

  async close(): Promise<void> {
    this.fail(new IsolateError('ERR_ISOLATE_CLOSED', `isolate for ${this.bundle.name} was closed`));
    await this.worker.terminate();
  }

  /** @internal Messages from the worker after it became ready. */
  onMessage(msg: FromWorker): void {
    if (msg.type === 'host-call') {
      const targets = { worker: this.worker, syncPort: this.syncPort };
      void answerHostCall(this.hostCalls, msg, targets, this.bundle.name);
    } else if (msg.type === 'host-port') {
      this.syncPort = msg.port;
    } else if (msg.type === 'response') {
      const response: IsolateResponse = {
        status: msg.status,
        headers: msg.headers,
        body: msg.body,
      };
      this.settle(msg.id)?.resolve(response as never);
    } else if (msg.type === 'event-result') {
      if (msg.traceback) this.logger.error({ worker: this.bundle.name }, msg.traceback);
      this.settle(msg.id)?.resolve(msg.result as never);
    } else if (msg.type === 'error' && msg.id !== undefined) {
      this.logger.error({ worker: this.bundle.name }, msg.traceback ?? msg.message);
      this.settle(msg.id)?.reject(
        new IsolateError('ERR_ISOLATE_HANDLER', msg.message, { userError: msg.userError }),
      );
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
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
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
    const detail = ready.type === 'error' ? (ready.traceback ?? ready.message) : ready.type;
    throw new IsolateError(
      'ERR_ISOLATE_BOOT',
      `isolate for ${bundle.name} failed to boot: ${detail}`,
      { userError: ready.type === 'error' && ready.userError },
    );
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
