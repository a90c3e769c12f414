/// <reference path="../internal/webassembly.d.ts" />
// Every use of Pyodide's private internals lives in this file, and only here. It was written
// against Pyodide 314.0.7 (pyodide.asm.mjs / pyodide.mjs of that release): the Emscripten module
// object, hiwire's JS reference tables, `API.restoreSnapshot`/`finalizeBootstrap`, the PyProxy
// finalization registry and the asyncio callback imports. Any other version is refused at import
// time, loudly, because these internals change between releases without notice.
import { getHeapStatistics } from 'node:v8';
import { loadPyodide, type PyodideAPI, version as pyodideVersion } from 'pyodide';
import { IsolateError } from '../errors.js';
import type { BootAssets, HeapImage, MemoryReport, MountSet } from '../internal/protocol.js';
import { type EmscriptenFS, mountReadOnly } from './bundle-fs.js';
import { type ApiForCuration, curateExpectedKeys, occupyExpectedSlots } from './curated-api.js';
import { jsScope, refuseHostImports } from './js-scope.js';

/** The Pyodide release these internals were written for. */
export const INTERNALS_PYODIDE_VERSION = '314.0.7';

if (pyodideVersion !== INTERNALS_PYODIDE_VERSION) {
  throw new IsolateError(
    'ERR_ISOLATE_PYODIDE_VERSION',
    `src/worker/pyodide-internals.ts was written for Pyodide ${INTERNALS_PYODIDE_VERSION} but ` +
      `Pyodide ${pyodideVersion} is installed; review every internal it uses before bumping the pin`,
  );
}

/** Where the stdlib zip is mounted read-only (`/lib/pythonXY.zip` links to it). */
const STDLIB_DIR = '/lib/.pyworkers-stdlib';

/** hiwire's immortal slot of the `js_no_value` marker; interned strings follow it. */
const IMMORTAL_NO_VALUE = 6;
/** hiwire's immortal slot of its JS-object -> reference dedup Map. */
const IMMORTAL_DEDUP_MAP = 1;

// The slice of the Emscripten module and Pyodide's private API used below.
interface PrivateApi {
  config: { jsglobals: object };
  public_api: PyodideAPI & Record<string, unknown>;
  _pyodide: { _base: PyCallable & Record<string, unknown> } & Record<string, unknown>;
  getExpectedKeys(): unknown[];
  abortSignalAny: unknown;
  restoreSnapshot(bytes: Uint8Array): Record<string, unknown>;
  finalizeBootstrap(cfg: unknown, deserializer?: unknown): PyodideAPI;
  isPyProxy(v: unknown): boolean;
  fatal_error(e: unknown): never;
  [key: string]: unknown;
}
type PyCallable = ((...args: unknown[]) => unknown) & Record<string, unknown>;
interface FinalizerHeld {
  ptr: number;
  cache?: { leaked: boolean; refcnt: number };
  gen?: number;
}
interface EmModule {
  HEAPU8: Uint8Array;
  API: PrivateApi;
  FS: EmFS;
  ___stack_pointer: WebAssembly.Global;
  growMemory(bytes: number): number | undefined;
  finalizationRegistry: {
    register(obj: object, held: FinalizerHeld, token?: object): void;
    unregister(token: object): boolean;
  };
  _Py_DecRef(ptr: number): void;
  _init_pyodide_proxy(): void;
  __hiwire_get(i: number): unknown;
  __hiwire_set(i: number, v: unknown): number;
  __hiwire_immortal_get(i: number): unknown;
  __hiwire_immortal_add(v: unknown): void;
}
/** The part of Emscripten's FS the runtime touches (also used by the read-only bundle FS). */
export interface EmFS {
  streams: ({ fd: number } | null | undefined)[];
  closeStream(fd: number): void;
  [key: string]: unknown;
}

/** Bookkeeping that lets one instance drop its first Python heap for another one. */
interface GuardState {
  /** Heap generation: bumped by the swap; finalizers and callbacks of older ones are dropped. */
  gen: number;
  /** PyProxy records of the current generation, while the instance may still swap. */
  live: WeakRef<object>[] | null;
  genOf: WeakMap<object, number>;
  pendingTimers: Set<{ clear: (h: unknown) => void; handle: unknown }>;
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

/** A booted Pyodide and the handles the runtime keeps on it. */
export interface Runtime {
  py: PyodideAPI;
  module: EmModule;
  guard: GuardState;
  /** Stack pointer with no wasm frame on the stack: any other value means Python is running. */
  stackBase: number;
  /** Added to the monotonic clocks so they never run below a restored snapshot's readings. */
  clock: { offsetMs: number };
  memory: { limitBytes: number; refusedBytes: number };
  /** Heap swaps done (0 or 1: an instance swaps once). */
  swaps: number;
}

/** Options of {@link bootRuntime}. */
export interface BootOptions {
  assets: BootAssets;
  /** Heap to restore; without one Python boots from scratch (3-4 s). */
  image?: HeapImage;
  makeSnapshot: boolean;
  env: Record<string, string>;
  /** What Python's `js` module is (default: a fresh {@link jsScope}); same keys in every isolate. */
  jsglobals?: object;
  memoryLimitBytes: number;
  /** Track PyProxies so a later swap can poison them (parked instances). */
  trackProxies: boolean;
  stdout(line: string): void;
  stderr(line: string): void;
}

function newGuardState(track: boolean): GuardState {
  return {
    gen: 0,
    live: track ? [] : null,
    genOf: new WeakMap(),
    pendingTimers: new Set(),
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
function wrapImports(
  imports: Record<string, Record<string, unknown>>,
  st: GuardState,
  rt: Pick<Runtime, 'clock' | 'memory'>,
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

/** Replaces Pyodide's PyProxy finalization registry with one that ignores older generations. */
function installFinalizerGuard(M: EmModule, st: GuardState): void {
  const registry = new FinalizationRegistry<FinalizerHeld>((held) => {
    if (held.gen !== st.gen) {
      st.stats.staleFinalizersSkipped++;
      return;
    }
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
function installTimerGuard(M: EmModule, st: GuardState): void {
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
          if (gen === st.gen) (cb as (...x: unknown[]) => unknown)(...a);
        },
        ...rest,
      );
      st.pendingTimers.add(rec);
      return rec.handle;
    };
  }
}

/** Writes an image into linear memory: only non-zero runs are copied, the rest is zeroed. */
function writeHeap(M: EmModule, image: HeapImage): void {
  if (M.HEAPU8.length < image.heap.length) M.growMemory(image.heap.length);
  const mem = M.HEAPU8;
  if (mem.length < image.heap.length) {
    throw new IsolateError(
      'ERR_ISOLATE_MEMORY_LIMIT',
      `cannot grow the heap to the snapshot's ${image.heap.length} bytes`,
    );
  }
  let pos = 0;
  const r = image.runs;
  for (let i = 0; i + 1 < r.length; i += 2) {
    const start = r[i]!;
    const end = r[i + 1]!;
    zeroDirtyPages(mem, pos, start);
    mem.set(image.heap.subarray(start, end), start);
    pos = end;
  }
  zeroDirtyPages(mem, pos, mem.length);
}

/**
 * Zeroes [from, to) page by page, skipping pages that already read as zero: most are pages
 * this instance never touched, and writing zeros would fault them in (slower, and more RSS).
 */
function zeroDirtyPages(mem: Uint8Array, from: number, to: number): void {
  for (let page = from; page < to; page += ZERO_PAGE.length) {
    const end = Math.min(page + ZERO_PAGE.length, to);
    // Buffer.compare is a native memcmp: ~10x faster than a JS loop over the words.
    if (Buffer.compare(mem.subarray(page, end), ZERO_PAGE.subarray(0, end - page)) !== 0) {
      mem.fill(0, page, end);
    }
  }
}
const ZERO_PAGE = new Uint8Array(65536);

/**
 * Boots Pyodide in this thread with the parent's compiled module and stdlib, restoring `image`
 * without a copy into Pyodide's own snapshot format. Guards are installed before anything runs.
 */
export async function bootRuntime(opts: BootOptions): Promise<Runtime> {
  const st = newGuardState(opts.trackProxies);
  const partial: Pick<Runtime, 'clock' | 'memory'> = {
    clock: { offsetMs: 0 },
    memory: { limitBytes: opts.memoryLimitBytes, refusedBytes: 0 },
  };
  if (opts.image) setClockFloor(partial, opts.image.monotonicMs);
  const asm = (await import('pyodide/pyodide.asm.mjs' as string)) as {
    default: (settings: Record<string, unknown>) => Promise<EmModule>;
  };
  let wasmMemory: WebAssembly.Memory | undefined;
  let M: EmModule | undefined;
  const createPyodideModule = async (settings: Record<string, unknown>): Promise<EmModule> => {
    settings.instantiateWasm = (
      imports: Record<string, Record<string, unknown>>,
      done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
    ) => {
      // Pyodide's own instantiateWasm installs these two; they only need a private marker.
      const marker = Symbol('jsv error');
      imports.env!.Jsv_GetError_import = () => marker;
      imports.env!.JsvError_Check = (v: unknown) => v === marker;
      wrapImports(imports, st, partial, () => wasmMemory);
      void WebAssembly.instantiate(opts.assets.wasmModule, imports).then((instance) => {
        wasmMemory = Object.values(instance.exports).find(
          (e): e is WebAssembly.Memory => e instanceof WebAssembly.Memory,
        );
        done(instance, opts.assets.wasmModule);
      });
      return {};
    };
    // Replace the stdlib installer (which would read python_stdlib.zip again) with the shared copy.
    const preRun = settings.preRun as ((m: EmModule) => void)[];
    preRun[0] = (mod) => {
      const heap32 = new Uint32Array(mod.HEAPU8.buffer);
      const v = heap32[(mod as unknown as { _Py_Version: number })._Py_Version >>> 2]!;
      const [maj, min] = [(v >>> 24) & 0xff, (v >>> 16) & 0xff];
      const fs = mod.FS as unknown as {
        mkdirTree(p: string): void;
        symlink(target: string, path: string): void;
      };
      mod.API.pyVersionTuple = [maj, min, (v >>> 8) & 0xff];
      fs.mkdirTree('/lib');
      mod.API.sitePackages = `/lib/python${maj}.${min}/site-packages`;
      fs.mkdirTree(mod.API.sitePackages as string);
      fs.mkdirTree(`/lib/python${maj}.${min}/lib-dynload`);
      // The zip is one buffer shared by every isolate of the process: a writable MEMFS file
      // owning it would let one worker plant code in every other worker's imports.
      const zip = `python${maj}${min}.zip`;
      const stdlib = { data: opts.assets.stdlib, entries: [[zip, 0, opts.assets.stdlib.length]] };
      mountReadOnly(mod.FS as unknown as EmscriptenFS, STDLIB_DIR, stdlib as MountSet);
      fs.symlink(`${STDLIB_DIR}/${zip}`, `/lib/${zip}`);
    };
    const mod = await asm.default(settings);
    M = mod;
    curateExpectedKeys(mod.API as unknown as ApiForCuration);
    installFinalizerGuard(mod, st);
    installTimerGuard(mod, st);
    const image = opts.image;
    if (image) {
      mod.API.restoreSnapshot = () => {
        writeHeap(mod, image);
        return image.jsRefs;
      };
    }
    return mod;
  };
  const py = await loadPyodide({
    indexURL: opts.assets.indexURL,
    lockFileContents: opts.assets.lockFileContents,
    packageBaseUrl: opts.assets.indexURL,
    env: opts.env,
    jsglobals: opts.jsglobals ?? jsScope(),
    stdout: opts.stdout,
    stderr: opts.stderr,
    createPyodideModule: createPyodideModule as never,
    // The real heap comes from `image` through restoreSnapshot above; this only switches the
    // restore path on without building Pyodide's own copy of the snapshot.
    ...(opts.image ? { _loadSnapshot: new Uint8Array(16) } : {}),
    ...(opts.makeSnapshot ? { _makeSnapshot: true } : {}),
  });
  if (!M) throw new IsolateError('ERR_ISOLATE_BOOT', 'Pyodide did not create its module');
  const module: EmModule = M;
  if (!opts.image) occupyExpectedSlots(module.API as unknown as ApiForCuration, module);
  // Drop the reference Pyodide keeps to the snapshot bytes.
  module.API.restoreSnapshot = () => {
    throw new IsolateError('ERR_ISOLATE_BOOT', 'restoreSnapshot called twice');
  };
  return {
    py,
    module,
    guard: st,
    stackBase: module.___stack_pointer.value as number,
    ...partial,
    swaps: 0,
  };
}

/** Makes the monotonic clocks read at least `floorMs` from now on; they never move back. */
export function setClockFloor(rt: Pick<Runtime, 'clock'>, floorMs: number): void {
  const now = performance.now();
  // 1 ms of slack so a reading taken right before the snapshot is strictly below the next one.
  rt.clock.offsetMs = Math.max(rt.clock.offsetMs, floorMs + 1 - now);
}

/** The interpreter's monotonic clock (ms), as Python's `time.monotonic()` reads it. */
export function monotonicNow(rt: Runtime): number {
  return performance.now() + rt.clock.offsetMs;
}

/** Why a swap was refused; the caller falls back to a fresh instance. */
export class SwapRefused extends Error {
  constructor(
    readonly reason: 'conflict' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Replaces the running interpreter's heap with `image` in place: no Emscripten instantiation.
 * Only valid while no Python frame is on the stack, and only when the image's interned JS
 * strings extend this instance's (the immortal table can only grow).
 */
export function swapHeap(rt: Runtime, image: HeapImage): PyodideAPI {
  const M = rt.module;
  const st = rt.guard;
  if (rt.swaps > 0) {
    throw new SwapRefused('busy', 'this isolate already swapped once; it belongs to its worker');
  }
  if ((M.___stack_pointer.value as number) !== rt.stackBase) {
    throw new SwapRefused('busy', 'cannot swap while Python is running');
  }
  const immortal = (image.jsRefs.immortalKeys ?? []) as string[];
  for (let i = 0; i < immortal.length; i++) {
    let cur: unknown;
    try {
      cur = M.__hiwire_immortal_get(IMMORTAL_NO_VALUE + 1 + i);
    } catch {
      break;
    }
    if (cur !== immortal[i]) {
      throw new SwapRefused(
        'conflict',
        `interned JS string slot ${IMMORTAL_NO_VALUE + 1 + i} holds ${JSON.stringify(String(cur).slice(0, 40))}, the snapshot wants ${JSON.stringify(immortal[i]!.slice(0, 40))}`,
      );
    }
  }
  // Past this point the old heap is gone: every failure is fatal for this instance.
  st.gen++;
  for (const t of st.pendingTimers) t.clear(t.handle);
  st.stats.timersCleared += st.pendingTimers.size;
  st.pendingTimers.clear();
  for (const ref of st.live ?? []) {
    const rec = ref.deref() as { ptr?: number; destroyed_msg?: string } | undefined;
    if (rec && 'destroyed_msg' in rec && rec.ptr) {
      rec.ptr = 0;
      rec.destroyed_msg = 'this PyProxy belongs to a Python heap that was swapped out';
      st.stats.proxiesPoisoned++;
    }
  }
  st.live = null; // one swap per instance: no need to track the new life's proxies
  for (const s of M.FS.streams) {
    if (s && s.fd > 2) {
      try {
        M.FS.closeStream(s.fd);
        st.stats.filesClosed++;
      } catch {
        // already closed
      }
    }
  }
  const dedup = M.__hiwire_immortal_get(IMMORTAL_DEDUP_MAP);
  if (!(dedup instanceof Map)) {
    throw new IsolateError('ERR_ISOLATE_BOOT', 'hiwire dedup Map not at its immortal slot');
  }
  dedup.clear();
  writeHeap(M, image);
  rt.swaps++;
  return finalizeSwap(M, image.jsRefs);
}

/**
 * What `API.finalizeBootstrap(cfg)` and `loadPyodide`'s finalizeSetup do after a restore, for an
 * instance whose JS side is already set up: keeps the existing public API object.
 */
function finalizeSwap(M: EmModule, jsRefs: Record<string, unknown>): PyodideAPI {
  const API = M.API;
  M._init_pyodide_proxy();
  const expected = API.getExpectedKeys();
  const setRef = (i: number, v: unknown): void => {
    if (M.__hiwire_set(i, v) < 0) throw new IsolateError('ERR_ISOLATE_BOOT', 'hiwire set failed');
  };
  for (const [i, v] of expected.entries()) setRef(i, v);
  const globals = API.config.jsglobals as Record<string, unknown>;
  const keys = (jsRefs.hiwireKeys ?? []) as (null | Record<string, unknown>)[];
  keys.forEach((entry, i) => {
    let v: unknown = entry;
    if (entry && 'path' in entry) {
      v =
        (entry.path as string[]).reduce<unknown>(
          (o, k) => (o as Record<string, unknown>)[k],
          globals,
        ) ?? null;
    } else if (entry && 'abortSignalAny' in entry) v = API.abortSignalAny;
    else if (entry && 'API' in entry) v = API;
    else if (entry) {
      throw new IsolateError('ERR_ISOLATE_BOOT', 'snapshot holds a serialized JS object');
    }
    setRef(expected.length + i, v);
  });
  const immortal = (jsRefs.immortalKeys ?? []) as string[];
  for (let i = 0; i < immortal.length; i++) {
    try {
      M.__hiwire_immortal_get(IMMORTAL_NO_VALUE + 1 + i);
    } catch {
      M.__hiwire_immortal_add(immortal[i]);
    }
  }
  const base = API._pyodide._base as Record<string, PyCallable>;
  const imp = base.import_module as PyCallable;
  const builtins = base.builtins as Record<string, unknown>;
  API.importlib = imp('importlib');
  API.sys = imp('sys');
  API.os = imp('os');
  const mainDict = (imp('__main__') as Record<string, unknown>).__dict__ as PyMapping;
  API.globals = chainedGlobals(mainDict, builtins.__dict__ as PyMapping);
  API.pyodide_py = imp('pyodide');
  API.pyodide_code = imp('pyodide.code');
  API.pyodide_ffi = imp('pyodide.ffi');
  const loader = imp('pyodide._package_loader') as Record<string, { __str__(): string }>;
  API.package_loader = loader;
  API.pyodide_base = base;
  API.sitepackages = loader.SITE_PACKAGES!.__str__();
  API.dsodir = loader.DSO_DIR!.__str__();
  API.defaultLdLibraryPath = [API.dsodir, API.sitepackages];
  API.runPythonInternal_dict = (builtins.dict as PyCallable)();
  ((API.sys as Record<string, Record<string, PyCallable>>).path!.insert as PyCallable)(0, '');
  const pub = API.public_api as unknown as Record<string, unknown>;
  pub.pyodide_py = API.pyodide_py;
  pub.globals = API.globals;
  return pub as unknown as PyodideAPI;
}

interface PyMapping {
  get(k: string): unknown;
  has(k: string): boolean;
}
function chainedGlobals(first: PyMapping, fallback: PyMapping): PyMapping {
  return new Proxy(first, {
    get(target, prop) {
      if (prop === 'get') return (k: string) => target.get(k) ?? fallback.get(k);
      if (prop === 'has') return (k: string) => target.has(k) || fallback.has(k);
      return Reflect.get(target, prop);
    },
  });
}

/** Counters of the swap guards (tests and diagnostics). */
export function guardStats(rt: Runtime): SwapGuardStats {
  return { ...rt.guard.stats };
}

/** The Python heap and the V8 heap of this isolate. */
export function memoryReport(rt: Runtime): MemoryReport {
  return { wasmBytes: rt.module.HEAPU8.length, jsHeapBytes: getHeapStatistics().used_heap_size };
}

/** Whether the heap asked to grow past the limit since boot. */
export function memoryLimitHit(rt: Runtime): boolean {
  return rt.memory.refusedBytes > 0;
}

/**
 * Snapshots the interpreter; JS objects Python still references that are not reachable from
 * `globalThis` by a path (so cannot be restored) are collected into `unrestorable`.
 */
export function makeSnapshot(rt: Runtime, unrestorable: unknown[]): Uint8Array {
  const api = rt.py as unknown as {
    makeMemorySnapshot(o: { serializer: (o: unknown) => unknown }): Uint8Array;
  };
  return api.makeMemorySnapshot({
    serializer: (obj) => {
      unrestorable.push(obj);
      return null;
    },
  });
}

/** The Emscripten FS of a runtime (for the read-only bundle mount). */
export function emscriptenFS(rt: Runtime): EmFS {
  return rt.module.FS;
}
