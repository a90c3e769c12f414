// The Durable Objects one host holds: which isolate each live object is pinned to, the token
// its storage calls carry, and those storage calls (answered here, on the object's own SQLite
// file: they never leave the host process that placed the object). Objects idle past
// `idleMs` are evicted: their instance is dropped, their file closed; the next event brings
// them back with their storage.
import { randomBytes } from 'node:crypto';
import type { HostCall, HostCallHandler, Logger } from '@pyworkers/isolate';
import type { BindingsWiring, ObjectNamespace } from '../bindings/wiring.js';
import { RouterError } from '../errors.js';
import type { HostWorker } from '../host/types.js';
import { type DeliverSocketEvent, ObjectSockets, type SocketEvent } from './object-sockets.js';

/** The binding Python's `ctx.storage` calls go out on: args `[token, ...]`. */
export const STORAGE_BINDING = '__pyworkers_do__';

/** Which object an event is for. */
export interface ObjectTarget {
  className: string;
  id: string;
  /** The name `idFromName` made the id from (Python's `ctx.id.name`). */
  name?: string;
}

/** A Durable Object event as a host runs it: fetch/RPC (`method`, `args`), alarm or socket. */
export interface ObjectEventInput {
  method: string;
  args: unknown[];
  /**
   * `alarm`: run the object's `alarm()` if its alarm is due, then settle it here; `ws`: one
   * event of a socket it accepted (`ws`).
   */
  op?: 'alarm' | 'ws';
  ws?: SocketEvent;
}

/** Told when an object's alarm is set, moved or cleared (the router's alarm schedule listens). */
export type AlarmListener = (
  worker: string,
  className: string,
  id: string,
  scheduledTime: number | null,
) => void;

interface Live<I> {
  key: string;
  worker: string;
  className: string;
  id: string;
  name?: string;
  iso: I;
  token: string;
  ns: ObjectNamespace;
  /** Events running on it now. */
  running: number;
  lastUsed: number;
}

const key = (worker: string, className: string, id: string): string =>
  `${worker}\u0000${className}\u0000${id}`;

/** Default idle time before an object is evicted (Cloudflare: some tens of seconds). */
export const DEFAULT_OBJECT_IDLE_MS = 60_000;

/** Options of {@link ObjectsHost}. */
export interface ObjectsHostOptions<I> {
  wiring: BindingsWiring;
  logger: Logger;
  onAlarm?: AlarmListener;
  idleMs?: number;
  /** Tells an isolate to drop its instance of an evicted object (best effort). */
  evict: (iso: I, worker: string, target: ObjectTarget) => void;
  /** Runs one event of an object here (the host's `dispatchObject`): its sockets' events. */
  deliver?: (worker: HostWorker, target: ObjectTarget, input: ObjectEventInput) => Promise<unknown>;
}

/**
 * One host's live objects, pinned to isolates of type `I` (LocalHost's own records).
 * Pins are made synchronously, so two events arriving together for a new object both go to
 * the one isolate the first picked.
 */
export class ObjectsHost<I extends object> {
  readonly #byKey = new Map<string, Live<I>>();
  readonly #byToken = new Map<string, Live<I>>();
  readonly #idleMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** The WebSockets the objects accepted (hibernation: they outlive the instances). */
  readonly sockets: ObjectSockets;

  constructor(private readonly options: ObjectsHostOptions<I>) {
    this.#idleMs = options.idleMs ?? DEFAULT_OBJECT_IDLE_MS;
    const deliver: DeliverSocketEvent = async (owner, event) => {
      if (!options.deliver) throw new Error('this host runs no object events');
      const target = {
        className: owner.className,
        id: owner.id,
        ...(owner.name !== undefined ? { name: owner.name } : {}),
      };
      await options.deliver(owner.worker, target, { method: '', args: [], op: 'ws', ws: event });
    };
    this.sockets = new ObjectSockets(deliver, options.logger);
  }

  /** Open sockets of an object (a new instance of it loads them before its constructor). */
  socketCount(worker: string, target: ObjectTarget): number {
    return this.sockets.count(key(worker, target.className, target.id));
  }

  /** The namespace store of `worker`'s class `className` (ids checked there, alarms hooked). */
  namespace(worker: HostWorker, className: string): ObjectNamespace {
    const state = worker.state;
    if (!state)
      throw new RouterError(
        'ERR_ROUTER_CONFIG',
        `Durable Object ${worker.name}.${className} has no state directory on this host (serve --state DIR)`,
      );
    const onAlarm = this.options.onAlarm;
    return this.options.wiring.objects(
      state.stateDir,
      worker.name,
      className,
      onAlarm ? (id, t) => onAlarm(worker.name, className, id, t) : undefined,
    );
  }

  /** The isolate `target` is pinned to, if it is live here. */
  pinned(worker: string, target: ObjectTarget): I | undefined {
    return this.#byKey.get(key(worker, target.className, target.id))?.iso;
  }

  /** Pins `target` to `iso` (or keeps its pin); returns the token its storage calls carry. */
  pin(worker: HostWorker, target: ObjectTarget, iso: I, ns: ObjectNamespace): string {
    const k = key(worker.name, target.className, target.id);
    let live = this.#byKey.get(k);
    if (!live || live.iso !== iso) {
      if (live) this.#forget(live);
      live = {
        key: k,
        worker: worker.name,
        className: target.className,
        id: target.id,
        ...(target.name !== undefined ? { name: target.name } : {}),
        iso,
        token: randomBytes(18).toString('base64url'),
        ns,
        running: 0,
        lastUsed: Date.now(),
      };
      this.#byKey.set(k, live);
      this.#byToken.set(live.token, live);
      this.#arm();
    }
    return live.token;
  }

  /** Marks an event of the object as running; the returned function marks it done. */
  begin(worker: string, target: ObjectTarget): () => void {
    const live = this.#byKey.get(key(worker, target.className, target.id));
    if (!live) return () => {};
    live.running++;
    live.lastUsed = Date.now();
    return () => {
      live.running--;
      live.lastUsed = Date.now();
    };
  }

  /**
   * The isolate handler of `worker`: `ctx.storage` calls answered here, everything else by
   * `inner` (its bindings, service and stub calls).
   */
  hostCalls(worker: HostWorker, inner: HostCallHandler | undefined): HostCallHandler {
    return (call: HostCall) => {
      if (call.binding !== STORAGE_BINDING) {
        if (inner) return inner(call);
        return Promise.reject(
          Object.assign(
            new Error(
              `binding '${call.binding}' is not declared for ${worker.name}; declare it in wrangler.toml or [tool.pyworkers]`,
            ),
            { code: 'ERR_BINDING_UNDECLARED' },
          ),
        );
      }
      const [token, ...args] = Array.isArray(call.args) ? call.args : [];
      const live = typeof token === 'string' ? this.#byToken.get(token) : undefined;
      if (!live || live.worker !== worker.name) {
        // A stale token (its object was evicted) or a forged one: no file is reachable by it.
        return Promise.reject(
          Object.assign(
            new Error(
              'ctx.storage: this object is not live in this isolate any more (it was evicted); the next event reaches it again',
            ),
            { code: 'ERR_DO_NOT_LIVE' },
          ),
        );
      }
      live.lastUsed = Date.now();
      if (call.method === 'abort') {
        // ctx.abort(): the instance is gone, its next event pins a new one (an open
        // transaction rolls back; the file stays open for it; its sockets stay open).
        this.#byKey.delete(live.key);
        this.#byToken.delete(live.token);
        return live.ns
          .storage(live.id)
          .rollbackOpen()
          .then(() => null);
      }
      if (call.method.startsWith('ws')) {
        try {
          const owner = {
            key: live.key,
            worker,
            className: live.className,
            id: live.id,
            ...(live.name !== undefined ? { name: live.name } : {}),
          };
          return Promise.resolve(this.sockets.call(owner, call.method, args));
        } catch (err) {
          return Promise.reject(err);
        }
      }
      return live.ns.callStorage(live.id, call.method, args);
    };
  }

  /** Every object pinned to `iso` is gone with it (crash, eviction): open transactions roll back. */
  isolateGone(iso: I): void {
    for (const live of [...this.#byKey.values()]) if (live.iso === iso) this.#forget(live);
  }

  #forget(live: Live<I>): void {
    this.#byKey.delete(live.key);
    this.#byToken.delete(live.token);
    this.sockets.forget(live.key);
    const storage = live.ns.storage(live.id);
    void storage
      .rollbackOpen()
      .catch(() => {})
      .finally(() => live.ns.evict(live.id));
  }

  /** Evicts objects idle for `idleMs` (no event running, no storage call since). */
  sweep(now = Date.now()): void {
    for (const live of [...this.#byKey.values()]) {
      if (live.running > 0 || now - live.lastUsed < this.#idleMs) continue;
      // A socket accepted with server.accept() needs its instance's listeners: it stays.
      if (this.sockets.holdsInstance(live.key)) continue;
      this.options.logger.debug(
        { worker: live.worker, className: live.className, id: live.id.slice(0, 12) },
        'durable object evicted (idle)',
      );
      this.#forget(live);
      this.options.evict(live.iso, live.worker, { className: live.className, id: live.id });
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#timer || this.#byKey.size === 0) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.sweep();
      },
      Math.max(50, Math.min(this.#idleMs / 2, 10_000)),
    );
    this.#timer.unref();
  }

  /** Objects live on this host now. */
  get size(): number {
    return this.#byKey.size;
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.sockets.close();
    for (const live of [...this.#byKey.values()]) this.#forget(live);
  }
}
