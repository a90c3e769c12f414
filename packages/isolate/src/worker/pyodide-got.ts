// Emscripten's global offset table (GOT) left lazy for the main module's own exports.
//
// When the main module is instantiated, Emscripten's `updateGOT(wasmExports)` gives each of its
// exports a `WebAssembly.Global` in `GOT` (Pyodide 314: 7,415 functions, their table index; 1,141
// data symbols, their address), each with an 8-byte ArrayBuffer and its backing store. Only side
// modules loaded later (`dlopen` of a package's `.so`) read them, and a hello worker loads none.
// So while `updateGOT` runs, a Proxy behind `GOT` (its prototype) takes each Global it stores for
// an export whose value can be derived again (`getFunctionAddress(fn)`, the data symbol's
// address) and drops it once written (young garbage); on a later read it builds the same Global
// and keeps it as `GOT`'s own entry. Every reader Emscripten has (`GOT[sym]`, `GOT[sym] ??=`,
// `GOTHandler`) sees what it saw before; `reportUndefinedSymbols` enumerates only own entries, and
// the lazy ones are all resolved (never -1), which it skips anyway. The Globals the main module
// imports (`GOT.func`, 280) are the instance's own and stay. Measured: ~2 MiB less RSS per
// isolate (router README, "Session 14").
/** The parts of the Emscripten module this reads. */
interface GotModule {
  GOT: Record<string, WebAssembly.Global>;
  getFunctionAddress(fn: unknown): number;
  isInternalSym(sym: string): boolean;
  LDSO: { loadedLibsByName: Record<string, unknown> };
}

/** Whether `updateGOT` gives export `sym` a GOT entry that {@link derive} can rebuild. */
function derivable(m: GotModule, exports: WebAssembly.Exports, sym: string): boolean {
  if (!Object.hasOwn(exports, sym) || m.isInternalSym(sym)) return false;
  const v = exports[sym];
  return typeof v === 'function' || v instanceof WebAssembly.Global;
}

/** The value `updateGOT` gives export `sym`, derived again; undefined: not derivable. */
function derive(m: GotModule, exports: WebAssembly.Exports, sym: string): number | undefined {
  if (!derivable(m, exports, sym)) return undefined;
  const v = exports[sym];
  if (typeof v === 'function') return m.getFunctionAddress(v) || undefined;
  const value = (v as WebAssembly.Global).value;
  return typeof value === 'number' ? value : undefined;
}

function own(obj: object, sym: string, value: unknown): void {
  Object.defineProperty(obj, sym, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Makes `GOT` lazy for the main module's own exports (see the file comment). Call it on the
 * Emscripten module's settings once the main instance exists, before Emscripten receives it
 * (its `updateGOT` runs then); call what it returns right after. `exports` is the instance's
 * `exports`, `imported` the GOT names the main module imports (those Globals are the instance's
 * own and stay). Returns undefined (nothing changed) when the module lacks what this needs.
 * What it returns ends the update and gives the number of entries left lazy.
 */
export function lazyGot(
  settings: object,
  exports: WebAssembly.Exports,
  imported: ReadonlySet<string>,
): (() => number) | undefined {
  const m = settings as Partial<GotModule>;
  if (!m.GOT || !m.getFunctionAddress || !m.isInternalSym) return undefined;
  const full = m as GotModule;
  const got = full.GOT;
  if (Object.getPrototypeOf(got) !== Object.prototype || Object.keys(got).length > imported.size) {
    return undefined;
  }
  let updating = true;
  let lazy = 0;
  // The Global `updateGOT` just stored (`GOT[sym] ??= new Global(...)`), until it has written
  // its value (`GOT[sym].value = ...`): then dropped if that value can be derived again.
  let pending: { sym: string; global: WebAssembly.Global } | undefined;
  const settle = (): void => {
    if (!pending) return;
    const { sym, global } = pending;
    pending = undefined;
    // `updateGOT` only stores for exports that are not internal: the value alone is checked.
    const v = exports[sym];
    const value =
      typeof v === 'function' ? full.getFunctionAddress(v) : (v as WebAssembly.Global).value;
    if (value !== 0 && global.value === value) lazy++;
    else own(got, sym, global);
  };
  const behind = new Proxy(Object.create(Object.prototype) as object, {
    get(target, sym, receiver) {
      if (typeof sym === 'string' && !imported.has(sym)) {
        if (updating) {
          if (pending?.sym === sym) return pending.global;
        } else {
          const value = derive(full, exports, sym);
          if (value !== undefined) {
            const global = new WebAssembly.Global({ value: 'i32', mutable: true }, value);
            own(receiver as object, sym, global);
            return global;
          }
        }
      }
      return Reflect.get(target, sym, receiver);
    },
    set(_target, sym, value, receiver) {
      if (
        updating &&
        typeof sym === 'string' &&
        !imported.has(sym) &&
        value instanceof WebAssembly.Global &&
        Object.hasOwn(exports, sym) &&
        (typeof exports[sym] === 'function' || exports[sym] instanceof WebAssembly.Global)
      ) {
        settle();
        pending = { sym, global: value };
        return true;
      }
      if (typeof sym === 'string') own(receiver as object, sym, value);
      else Object.defineProperty(receiver, sym, { value, writable: true, configurable: true });
      return true;
    },
  });
  Object.setPrototypeOf(got, behind);
  return () => {
    settle();
    updating = false;
    return lazy;
  };
}
