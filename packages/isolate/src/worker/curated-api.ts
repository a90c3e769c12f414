// What Python sees of Pyodide's own JS API. Pyodide registers `pyodide_js` (its public API: the
// Emscripten module as `_module`, the file system as `FS` with NODEFS to mount host
// directories, `mountNodeFS`, `loadPackage` reading host paths) and `pyodide_js._api` (every
// internal, Node sockets and the module factory included). Python code cannot be kept from an
// object it holds a proxy to (gc.get_objects() finds them all), so the objects themselves are
// swapped: the hiwire slots Python's proxies point at get curated stand-ins, and the host keeps
// the real ones. Snapshots record the stand-ins by slot, and restores put them back the same way.

/** The slice of Pyodide's private API this file uses. */
export interface ApiForCuration {
  public_api: Record<string, unknown>;
  config: { enableRunUntilComplete?: unknown };
  scheduleCallback: unknown;
  abortSignalAny: unknown;
  getExpectedKeys(): unknown[];
  [key: string]: unknown;
}

interface SlotAccess {
  __hiwire_get(i: number): unknown;
  __hiwire_set(i: number, v: unknown): number;
}

const curated = new WeakMap<object, { pub: object; api: object }>();

/** The stand-ins: only what Pyodide's own Python code imports (webloop, pyfetch, the loader). */
function standIns(API: ApiForCuration): { pub: object; api: object } {
  let found = curated.get(API);
  if (!found) {
    const api = {
      scheduleCallback: API.scheduleCallback,
      abortSignalAny: API.abortSignalAny,
      config: { enableRunUntilComplete: Boolean(API.config.enableRunUntilComplete) },
    };
    const real = API.public_api;
    const pub = { version: real.version, loadedPackages: real.loadedPackages, _api: api };
    found = { pub, api };
    curated.set(API, found);
  }
  return found;
}

/**
 * Makes Pyodide's list of fixed hiwire slots name the stand-ins instead of `API` and its public
 * API, so that Pyodide's restore, our in-place swap and the snapshot check all agree. Call it
 * as soon as the Emscripten module exists, before Pyodide restores anything.
 */
export function curateExpectedKeys(API: ApiForCuration): void {
  const original = API.getExpectedKeys.bind(API);
  API.getExpectedKeys = () => {
    const { pub, api } = standIns(API);
    return original().map((v) => (v === API ? api : v === API.public_api ? pub : v));
  };
}

/**
 * After a boot from scratch the fixed slots still hold the real objects (Pyodide put them there
 * while registering `pyodide_js`): point them at the stand-ins. Restores set them already.
 */
export function occupyExpectedSlots(API: ApiForCuration, M: SlotAccess): void {
  const { pub, api } = standIns(API);
  for (const [i, want] of API.getExpectedKeys().entries()) {
    if (want !== pub && want !== api) continue;
    const cur = M.__hiwire_get(i);
    if (cur === want) continue;
    if (cur !== API && cur !== API.public_api) {
      throw new Error(`hiwire slot ${i} holds neither Pyodide's API nor its stand-in`);
    }
    if (M.__hiwire_set(i, want) < 0) throw new Error(`could not set hiwire slot ${i}`);
  }
}
