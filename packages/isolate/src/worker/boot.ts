// How a worker thread becomes a running interpreter: the four boot modes and the one-time swap.
import type { PyodideAPI } from 'pyodide';
import type {
  AdoptMessage,
  FromWorker,
  HeapImage,
  InitMessage,
  MountSet,
} from '../internal/protocol.js';
import { SDK_DIR, WORKER_DIR } from '../mount-paths.js';
import { type EmscriptenFS, mountReadOnly } from './bundle-fs.js';
import { jsScope } from './js-scope.js';
import {
  makeSnapshot,
  parkedMemory,
  rewindParked,
  warmCopyRuns,
  zeroFreeMemory,
} from './pyodide-heap.js';
import {
  bootRuntime,
  emscriptenFS,
  memoryReport,
  monotonicNow,
  type Runtime,
  setClockFloor,
} from './pyodide-runtime.js';
import { dropOldLife, SwapRefused, swapHeap } from './pyodide-swap.js';
import { warmRequest } from './request-bridge.js';

interface PyProxyLike {
  toJs(opts?: object): unknown;
  destroy(): void;
}

/** What the message loop needs from a booted interpreter. */
export interface Booted {
  runtime: Runtime;
  pyodide: PyodideAPI;
  /** A builder whose dependency modules are imported already. */
  preloaded?: boolean;
}

type Post = (msg: FromWorker, transfer?: ArrayBuffer[]) => void;

function mountFiles(rt: Runtime, sdk: MountSet, files: MountSet): void {
  const FS = emscriptenFS(rt) as unknown as EmscriptenFS;
  // A parked isolate mounted the SDK while it waited: the same files for every worker.
  const parked = rt.sdkMounted;
  rt.sdkMounted = undefined;
  // Both come from the host's sdkMountSet(), which carries the SDK's digest.
  if (parked?.id === undefined || parked.id !== sdk.id) {
    if (parked) FS.unmount(SDK_DIR);
    mountReadOnly(FS, SDK_DIR, sdk);
  }
  mountReadOnly(FS, WORKER_DIR, files);
}

/** Python's `js` module: one curated scope per thread, kept across the swap. */
let scope: Record<string, unknown> | undefined;
function pythonScope(): Record<string, unknown> {
  scope ??= jsScope();
  return scope;
}

/** Fresh entropy and clocks after a restore (or swap), before any request runs. */
function afterRestore(rt: Runtime, image: HeapImage): void {
  setClockFloor(rt, image.monotonicMs);
  rt.py.pyimport('_pyworkers_snapshot').after_restore();
}

/** Runs init in snapshot mode: baseline restored, top level run, dedicated snapshot posted. */
export async function buildSnapshot(
  rt: Runtime,
  msg: Pick<InitMessage, 'name' | 'mainModule' | 'durableObjectClasses' | 'files' | 'sdkFiles'>,
  post: Post,
  preloaded = false,
): Promise<void> {
  const py = rt.py;
  const hygiene = py.pyimport('_pyworkers_snapshot');
  if (preloaded) {
    // The dependencies are imported from the previous build's files; this build's replace them
    // (the same dependency files: the builder checked their key), with the changed sources.
    const FS = emscriptenFS(rt) as unknown as EmscriptenFS;
    FS.unmount(WORKER_DIR);
    mountReadOnly(FS, WORKER_DIR, msg.files);
    py.runPython('import importlib\nimportlib.invalidate_caches()');
  } else {
    mountFiles(rt, msg.sdkFiles, msg.files);
    setBuildPath(py);
    hygiene.begin_top_level();
  }
  let entropyBytes: number;
  try {
    py.pyimport('_pyworkers_runtime').load(msg.mainModule, msg.durableObjectClasses ?? []);
  } finally {
    entropyBytes = Number(hygiene.end_top_level());
  }
  const closed = hygiene.prepare_snapshot() as PyProxyLike;
  for (const name of closed.toJs() as string[]) {
    post({ type: 'log', stream: 'stderr', line: `closed ${name}, left open by the top level` });
  }
  closed.destroy();
  const pythonVersion = String(py.runPython('import sys; sys.version.split()[0]'));
  const modules = py.runPython('import sys; sorted(sys.modules)') as PyProxyLike;
  const importedModules = modules.toJs() as string[];
  modules.destroy();
  // Python objects that still hold JS objects the snapshot cannot name by a path from globalThis.
  const unrestorable: unknown[] = [];
  const monotonicMs = monotonicNow(rt);
  zeroFreeMemory(rt.module);
  const bytes = makeSnapshot(rt, unrestorable);
  if (unrestorable.length > 0) {
    post({
      type: 'build-error',
      code: 'ERR_ISOLATE_UNRESTORABLE',
      message: unrestorableMessage(rt, unrestorable, msg.name),
    });
    return;
  }
  post({ type: 'snapshot', bytes, pythonVersion, importedModules, monotonicMs, entropyBytes }, [
    bytes.buffer as ArrayBuffer,
  ]);
}

/** The module path of a build: the SDK, then the worker's files, then Python's own. */
function setBuildPath(py: PyodideAPI): void {
  py.runPython(
    `import sys\nsys.dont_write_bytecode = True\nsys.path[:] = [${JSON.stringify(SDK_DIR)}, ${JSON.stringify(WORKER_DIR)}] + [p for p in sys.path if p != ${JSON.stringify(SDK_DIR)}]`,
  );
}

/**
 * A builder's head start: a previous build's dependency modules, imported inside the top
 * level's entropy count (so what they draw is counted as it was). False (and nothing imported
 * to rely on) when one of them fails to import.
 */
function preloadDependencies(rt: Runtime, msg: InitMessage): boolean {
  if (!msg.preload || msg.preload.modules.length === 0) return false;
  const py = rt.py;
  mountFiles(rt, msg.sdkFiles, msg.preload.files);
  setBuildPath(py);
  py.pyimport('_pyworkers_snapshot').begin_top_level();
  const failed = py.runPython(
    `import importlib\n_failed = 0\nfor _m in ${JSON.stringify(msg.preload.modules)}:\n    try:\n        importlib.import_module(_m)\n    except BaseException:\n        _failed += 1\ndel _m\n_failed`,
  ) as number;
  py.runPython('del _failed');
  return failed === 0;
}

/** A build error naming the top-level variables that hold JS objects. */
function unrestorableMessage(rt: Runtime, objects: unknown[], worker: string): string {
  const holders = rt.py.pyimport('_pyworkers_snapshot').js_holders(WORKER_DIR) as PyProxyLike;
  const pairs = holders.toJs({ create_pyproxies: false }) as [string, unknown][];
  holders.destroy();
  const names = pairs.filter(([, obj]) => objects.includes(obj)).map(([name]) => name);
  const what =
    names.length > 0
      ? `top-level variable${names.length > 1 ? 's' : ''} ${names.join(', ')} hold${names.length > 1 ? '' : 's'} a JavaScript object`
      : `${objects.length} JavaScript object(s) created at top level are still referenced from Python`;
  return (
    `${worker}: ${what} that cannot be restored from a snapshot. Move it into the handler ` +
    '(create it inside fetch()), or import it by name with `from js import X`, which is restored by path.'
  );
}

/**
 * Runs the paths a cold start takes (Web Crypto's lazy setup behind `getentropy`, Python <-> JS
 * conversions, awaiting a coroutine from JS) so V8 has compiled them before the first request:
 * parked isolates do it before parking (their JS realm survives the swap), builds right after
 * restoring the baseline. Awaiting interns one JS string (Pyodide's borrowed-proxy message);
 * doing it in both places keeps a parked isolate's interned strings a prefix of every snapshot's.
 */
async function warmUp(rt: Runtime): Promise<void> {
  crypto.getRandomValues(new Uint8Array(16));
  // Node loads its fetch classes lazily; the request bridge builds a Request per request.
  const req = new Request('http://127.0.0.1/warm', {
    method: 'POST',
    headers: [['content-type', 'text/plain']],
    body: new Uint8Array(1),
  });
  await req.arrayBuffer();
  const res = new Response('warm', { status: 200, headers: { 'x-warm': '1' } });
  void [...res.headers];
  await res.arrayBuffer();
  const env = rt.py.toPy({ WARM: 'up' }) as PyProxyLike;
  const fn = rt.py.runPython(
    'async def _pyworkers_warm_up(env):\n    import asyncio, os\n    await asyncio.sleep(0)\n    return [len(os.urandom(8)), "warm", b"up"]\n_pyworkers_warm_up',
  ) as PyProxyLike & ((env: unknown) => Promise<PyProxyLike>);
  const out = await fn(env);
  out.toJs({ create_pyproxies: false });
  out.destroy();
  fn.destroy();
  env.destroy();
  rt.py.runPython('del _pyworkers_warm_up');
}

/** Boots per `msg.mode`; posts `ready`, `parked`, or `snapshot`. */
export async function boot(msg: InitMessage, post: Post): Promise<Booted | undefined> {
  const t0 = performance.now();
  const log = (stream: 'stdout' | 'stderr') => (line: string) =>
    post({ type: 'log', stream, line });
  const rt = await bootRuntime({
    assets: msg.assets,
    ...(msg.image ? { image: msg.image } : {}),
    makeSnapshot: msg.mode !== 'serve' && msg.mode !== 'park',
    env: msg.env ?? {},
    jsglobals: pythonScope(),
    memoryLimitBytes: msg.limits.memoryBytes,
    trackProxies: msg.mode === 'park',
    stdout: log('stdout'),
    stderr: log('stderr'),
  });
  if (msg.mode === 'baseline') {
    // Every object of the bare interpreter goes to the permanent generation: Python 3.14's
    // incremental collector flips a mark in each object it visits, so without this every
    // collection during a worker's top level would rewrite the header of every baseline object,
    // and the dedicated snapshot would share almost no page with the baseline.
    // The SDK is the same for every worker: imported here, it is in the baseline (and in every
    // parked isolate) instead of in each worker's snapshot delta. All of it: a module the SDK
    // imports lazily (the binding proxies, when the env is built) would otherwise be found,
    // read and compiled from source by every cold start (5 modules: 20-40 ms on a loaded box).
    mountFiles(rt, msg.sdkFiles, msg.files);
    rt.py.runPython(
      `import sys\nsys.dont_write_bytecode = True\nsys.path[:0] = [${JSON.stringify(SDK_DIR)}]\nimport _pyworkers_snapshot, _pyworkers_runtime, workers, asgi, wsgi\nimport importlib, pkgutil\nfor _m in pkgutil.iter_modules(workers.__path__, 'workers.'):\n    importlib.import_module(_m.name)\ndel _m`,
    );
    await warmUp(rt);
    rt.py.runPython('import gc\ngc.collect()\ngc.freeze()');
    const monotonicMs = monotonicNow(rt);
    zeroFreeMemory(rt.module);
    const bytes = makeSnapshot(rt, []);
    post(
      {
        type: 'snapshot',
        bytes,
        pythonVersion: String(rt.py.runPython('import sys; sys.version.split()[0]')),
        importedModules: [],
        monotonicMs,
        entropyBytes: 0,
      },
      [bytes.buffer as ArrayBuffer],
    );
    return undefined;
  }
  if (msg.mode === 'snapshot') {
    await warmUp(rt);
    await buildSnapshot(rt, msg, post);
    return undefined;
  }
  if (msg.mode === 'builder') {
    await warmUp(rt);
    const preloaded = preloadDependencies(rt, msg);
    post({ type: 'parked', bootMs: performance.now() - t0, preloaded });
    return { runtime: rt, pyodide: rt.py, preloaded };
  }
  if (msg.mode === 'park') {
    await warmUp(rt);
    mountReadOnly(emscriptenFS(rt) as unknown as EmscriptenFS, SDK_DIR, msg.sdkFiles);
    rt.sdkMounted = msg.sdkFiles;
    // A request through the SDK's path once: the swap keeps this JS realm, so the first request
    // after it does less first-time work (~0.6 ms, measured at load 19). Before `parked`: no
    // adopt may arrive while it runs.
    await warmRequest(rt.py);
    if (msg.warmup) await rt.py.runPythonAsync(msg.warmup);
    // Last, once nothing more runs until the swap: which pages the boot changed (~5 ms here,
    // saved on every swap into this isolate).
    const record = msg.image && parkedMemory(rt.module, msg.image, rt.guard.entries);
    if (record && msg.image) {
      // Nothing runs in this heap until the swap: its old life ends now, and the baseline goes
      // back over the pages the boot changed (~1 ms here instead of in every swap).
      dropOldLife(rt);
      rt.parked = rewindParked(rt.module, msg.image, record);
    }
    // The swap's copy, optimized now (it writes back the bytes it reads: nothing changes).
    await warmCopyRuns(() => rt.module.HEAPU8);
    post({ type: 'parked', bootMs: performance.now() - t0 });
    return { runtime: rt, pyodide: rt.py };
  }
  // serve: restored from the dedicated snapshot, or (no snapshot) booted plain.
  mountFiles(rt, msg.sdkFiles, msg.files);
  if (msg.image) afterRestore(rt, msg.image);
  else {
    rt.py.runPython(
      `import sys\nsys.dont_write_bytecode = True\nsys.path[:0] = [${JSON.stringify(SDK_DIR)}, ${JSON.stringify(WORKER_DIR)}]\nimport _pyworkers_runtime\n_pyworkers_runtime.load(${JSON.stringify(msg.mainModule)})`,
    );
  }
  post({
    type: 'ready',
    bootMs: performance.now() - t0,
    restored: msg.image !== undefined,
    swapped: false,
    memory: memoryReport(rt, false),
    phases: {},
  });
  return { runtime: rt, pyodide: rt.py };
}

/** Swaps a parked interpreter into worker `msg.name`; posts `ready` or `swap-refused`. */
export function adopt(current: Booted, msg: AdoptMessage, post: Post): Booted | undefined {
  const t0 = performance.now();
  const queued = performance.timeOrigin + t0 - msg.sentAt;
  const rt = current.runtime;
  rt.memory.limitBytes = msg.memoryBytes;
  let pyodide: PyodideAPI;
  try {
    pyodide = swapHeap(rt, msg.image);
  } catch (err) {
    if (err instanceof SwapRefused) {
      post({ type: 'swap-refused', reason: err.reason, message: err.message });
      return undefined;
    }
    throw err;
  }
  const t1 = performance.now();
  rt.py = pyodide;
  mountFiles(rt, msg.sdkFiles, msg.files);
  const t2 = performance.now();
  afterRestore(rt, msg.image);
  const t3 = performance.now();
  post({
    type: 'ready',
    bootMs: t3 - t0,
    restored: true,
    swapped: true,
    memory: memoryReport(rt, false),
    phases: { queued, swap: t1 - t0, mount: t2 - t1, reseed: t3 - t2 },
  });
  return { runtime: rt, pyodide };
}
