// The guards that let one instance drop its first Python heap for another one (the in-place
// swap), and the wasm import wrappers installed before anything runs: generation-bound asyncio
// callbacks and finalizers, recorded timers, the monotonic clock offset and the heap limit.
import { refuseHostImports } from './js-scope.js';
import type { EmModule, FinalizerHeld, PyCallable } from './pyodide-pin.js';

/** Bookkeeping that lets one instance drop its first Python heap for another one. */
export interface GuardState {
  /** Heap generation: bumped by the swap; finalizers and callbacks of older ones are dropped. */
  gen: number;
  /** PyProxy records of the current generation, while the instance may still swap. */
  live: WeakRef<object>[] | null;
  genOf: WeakMap<object, number>;
  pendingTimers: Set<{ clear: (h: unknown) => void; handle: unknown }>;
  /**
   * Calls into the heap from outside (a finalizer's decref, an asyncio timer): while parked,
   * any one of them changes memory behind the record of what the parked boot changed.
   */
  entries: number;
  stats: SwapGuardStats;
}

/** What the swap guards did, for tests and diagnostics. */
export interface SwapGuardStats {
  staleFinalizersSkipped: number;
  proxiesPoisoned: number;
  timersCleared: number;
  staleCallbacksDropped: number;
  filesClosed: number;
}

/** The clock offset and heap limit the wrapped imports read (owned by the runtime). */
export interface ImportSettings {
  /** Added to the monotonic clocks so they never run below a restored snapshot's readings. */
  clock: { offsetMs: number };
  memory: { limitBytes: number; refusedBytes: number };
}

/** Fresh guard bookkeeping; `track` keeps weak references to PyProxies so a swap can poison them. */
export function newGuardState(track: boolean): GuardState {
  return {
    gen: 0,
    live: track ? [] : null,
    genOf: new WeakMap(),
    pendingTimers: new Set(),
    entries: 0,
    stats: {
      staleFinalizersSkipped: 0,
      proxiesPoisoned: 0,
      timersCleared: 0,
      staleCallbacksDropped: 0,
      filesClosed: 0,
    },
  };
}

/** Wraps a JS function handed to Python so calls made for an older heap generation do nothing. */
function generationBound(st: GuardState, fn: PyCallable): PyCallable {
  const gen = st.gen;
  const bound = function (this: unknown, ...args: unknown[]) {
    if (gen !== st.gen) {
      st.stats.staleCallbacksDropped++;
      return undefined;
    }
    return fn.apply(this, args);
  } as PyCallable;
  bound.destroy = () => {
    if (gen === st.gen) (fn.destroy as () => void)?.();
  };
  st.genOf.set(bound, gen);
  return bound;
}

/**
 * Wraps the wasm imports: asyncio callbacks become generation-bound, the monotonic clocks get an
 * offset, and heap growth stops at the memory limit.
 */
export function wrapImports(
  imports: Record<string, Record<string, unknown>>,
  st: GuardState,
  rt: ImportSettings,
  memory: () => WebAssembly.Memory | undefined,
): void {
  // Only env and wasi: the GOT.* namespaces are Proxies that create a symbol on every read.
  const seen = new Set<object>();
  for (const ns of [imports.env, imports.wasi_snapshot_preview1]) {
    if (!ns || seen.has(ns)) continue;
    seen.add(ns);
    refuseHostImports(ns);
    const wrap = <F extends (...a: never[]) => unknown>(name: string, make: (orig: F) => F) => {
      const orig = ns[name] as F | undefined;
      if (typeof orig !== 'function') return;
      // Emscripten reads `.sig` and friends off import functions: keep them.
      ns[name] = Object.assign(make(orig), orig);
    };
    wrap<PyCallable>(
      'create_once_callable',
      (once) =>
        ((...a: unknown[]) => {
          const f = once(...a);
          return typeof f === 'function' ? generationBound(st, f as PyCallable) : f;
        }) as PyCallable,
    );
    wrap<PyCallable>(
      'create_promise_handles',
      (handles) =>
        ((...a: unknown[]) => {
          const r = handles(...a);
          return Array.isArray(r) ? r.map((h) => generationBound(st, h as PyCallable)) : r;
        }) as PyCallable,
    );
    wrap<(id: number, precision: bigint, ptr: number) => number>(
      'clock_time_get',
      (clockTimeGet) => (id, precision, ptr) => {
        const rc = clockTimeGet(id, precision, ptr);
        const mem = memory();
        if (rc === 0 && id !== 0 && rt.clock.offsetMs > 0 && mem) {
          const view = new DataView(mem.buffer);
          const ns0 = view.getBigUint64(ptr >>> 0, true);
          view.setBigUint64(ptr >>> 0, ns0 + BigInt(Math.round(rt.clock.offsetMs * 1e6)), true);
        }
        return rc;
      },
    );
    wrap<() => number>('emscripten_get_now', (getNow) => () => getNow() + rt.clock.offsetMs);
    wrap<(bytes: number) => number>('emscripten_resize_heap', (resize) => (requested) => {
      if (requested >>> 0 > rt.memory.limitBytes) {
        rt.memory.refusedBytes = Math.max(rt.memory.refusedBytes, requested >>> 0);
        return 0;
      }
      return resize(requested);
    });
  }
}

export function installFinalizerGuard(M: EmModule, st: GuardState): void {
  const registry = new FinalizationRegistry<FinalizerHeld>((held) => {
    if (held.gen !== st.gen) {
      st.stats.staleFinalizersSkipped++;
      return;
    }
    st.entries++;
    if (held.cache) {
      held.cache.leaked = true;
      held.cache.refcnt--;
    }
    try {
      M._Py_DecRef(held.ptr);
    } catch (e) {
      M.API.fatal_error(e);
    }
  });
  M.finalizationRegistry = {
    register(obj, held, token) {
      held.gen = st.gen;
      registry.register(obj, held, token);
      st.genOf.set(obj, st.gen);
      st.live?.push(new WeakRef(obj));
    },
    unregister: (token) => registry.unregister(token),
  };
}

/**
 * asyncio's event loop schedules through the global setTimeout/setImmediate; record the ones
 * scheduled for a Python callable so a swap can cancel those of the old heap.
 */
export function installTimerGuard(M: EmModule, st: GuardState): void {
  const g = globalThis as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [set, clear] of [
    ['setTimeout', 'clearTimeout'],
    ['setImmediate', 'clearImmediate'],
  ] as const) {
    const orig = g[set]!;
    const origClear = g[clear]! as (h: unknown) => void;
    g[set] = (cb: unknown, ...rest: unknown[]) => {
      if (typeof cb !== 'function') return orig(cb, ...rest);
      let gen = st.genOf.get(cb);
      if (gen === undefined && M.API.isPyProxy(cb)) gen = st.gen;
      if (gen === undefined) return orig(cb, ...rest);
      const rec = { clear: origClear, handle: undefined as unknown };
      rec.handle = orig(
        (...a: unknown[]) => {
          st.pendingTimers.delete(rec);
          if (gen !== st.gen) return;
          st.entries++;
          (cb as (...x: unknown[]) => unknown)(...a);
        },
        ...rest,
      );
      st.pendingTimers.add(rec);
      return rec.handle;
    };
  }
}

/** Counters of the swap guards (tests and diagnostics). */
export function guardStats(rt: { guard: GuardState }): SwapGuardStats {
  return { ...rt.guard.stats };
}
