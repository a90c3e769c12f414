// Boots Pyodide in a worker thread with the parent's compiled module, stdlib and (optionally) a
// heap image, with the swap guards installed before anything runs; and what the message loop
// reads off a booted runtime (clocks, memory, the Emscripten FS).
import { getHeapStatistics } from 'node:v8';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { IsolateError } from '../errors.js';
import type { BootAssets, HeapImage, MemoryReport, MountSet } from '../internal/protocol.js';
import { type EmscriptenFS, mountReadOnly } from './bundle-fs.js';
import { type ApiForCuration, curateExpectedKeys, occupyExpectedSlots } from './curated-api.js';
import { jsScope } from './js-scope.js';
import { lazyGot } from './pyodide-got.js';
import {
  type GuardState,
  type ImportSettings,
  installFinalizerGuard,
  installTimerGuard,
  newGuardState,
  wrapImports,
} from './pyodide-guards.js';
import { type ParkedMemory, writeHeap } from './pyodide-heap.js';
import { type EmFS, type EmModule, INTERNALS_PYODIDE_VERSION } from './pyodide-pin.js';
import { type ResidentProbe, residentBytes, tagMemory } from './resident.js';

/** Where the stdlib zip is mounted read-only (`/lib/pythonXY.zip` links to it). */
const STDLIB_DIR = '/lib/.pyworkers-stdlib';

/** A booted Pyodide and the handles the runtime keeps on it. */
export interface Runtime extends ImportSettings {
  py: PyodideAPI;
  module: EmModule;
  guard: GuardState;
  /** Stack pointer with no wasm frame on the stack: any other value means Python is running. */
  stackBase: number;
  /** Heap swaps done (0 or 1: an instance swaps once). */
  swaps: number;
  /** A parked instance: the baseline it booted from and the pages its boot changed. */
  parked?: ParkedMemory;
  /** The SDK files mounted while parked (the same for every worker of this host). */
  sdkMounted?: MountSet;
  /** Finds the WebAssembly memory's resident pages (null: /proc cannot say). */
  resident?: ResidentProbe | null;
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

/**
 * Boots Pyodide in this thread with the parent's compiled module and stdlib, restoring `image`
 * without a copy into Pyodide's own snapshot format. Guards are installed before anything runs.
 */
export async function bootRuntime(opts: BootOptions): Promise<Runtime> {
  const st = newGuardState(opts.trackProxies);
  const partial: ImportSettings = {
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
        const wasm = opts.assets.wasmModule;
        // Emscripten's updateGOT runs inside done(): the GOT it fills is left lazy.
        const updated = lazyGot(settings, instance.exports, gotImports(wasm));
        try {
          done(instance, wasm);
        } finally {
          updated?.();
        }
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
  if (!M) {
    throw new IsolateError(
      'ERR_ISOLATE_BOOT',
      `Pyodide ${INTERNALS_PYODIDE_VERSION} did not create its module`,
    );
  }
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

let gotImportsOf: { module: WebAssembly.Module; names: Set<string> } | undefined;
/** The GOT entries the main module imports (the same module for every boot of a thread). */
function gotImports(module: WebAssembly.Module): Set<string> {
  if (gotImportsOf?.module !== module) {
    const names = WebAssembly.Module.imports(module)
      .filter((i) => i.module === 'GOT.mem' || i.module === 'GOT.func')
      .map((i) => i.name);
    gotImportsOf = { module, names: new Set(names) };
  }
  return gotImportsOf.names;
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

/**
 * The Python heap and the V8 heap of this isolate, as the OS counts them: the resident pages of
 * the WebAssembly memory (its size where /proc cannot say, or with `measure: false`) and V8's
 * committed heap pages. The first measurement takes ~1-1.5 ms (finding the memory's mapping),
 * later ones ~0.3 ms: a cold start's `ready` goes out without one.
 */
export function memoryReport(rt: Runtime, measure = true): MemoryReport {
  const heap = rt.module.HEAPU8;
  if (!measure) {
    return { wasmBytes: heap.length, jsHeapBytes: getHeapStatistics().total_physical_size };
  }
  if (rt.resident === undefined) {
    // A block of this heap holds the tag that finds its mapping: taken on the first report,
    // after the heap this isolate serves is in place (a swap resets it).
    const m = rt.module as unknown as { _malloc(n: number): number };
    const at = m._malloc(16);
    rt.resident = at ? tagMemory(heap, at) : null;
  }
  const resident = rt.resident ? residentBytes(heap, rt.resident) : undefined;
  // Found once, then kept: a lookup that failed is not retried on every report.
  if (resident === undefined) rt.resident = null;
  return {
    wasmBytes: resident ?? heap.length,
    jsHeapBytes: getHeapStatistics().total_physical_size,
    resident: resident !== undefined,
  };
}

/** Whether the heap asked to grow past the limit since boot. */
export function memoryLimitHit(rt: Runtime): boolean {
  return rt.memory.refusedBytes > 0;
}

/** The Emscripten FS of a runtime (for the read-only bundle mount). */
export function emscriptenFS(rt: Runtime): EmFS {
  return rt.module.FS;
}
