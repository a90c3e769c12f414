import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lazyGot } from './pyodide-got.js';

// Emscripten's own GOT code, taken from the pinned Pyodide's glue: what reads and writes GOT.
const glue = readFileSync(
  createRequire(import.meta.url).resolve('pyodide/pyodide.asm.mjs'),
  'utf8',
);
function between(from: string, to: string): string {
  const start = glue.indexOf(from);
  const end = glue.indexOf(to, start);
  if (start < 0 || end < 0) throw new Error(`Pyodide's glue has no ${from}...${to}`);
  return glue.slice(start, end);
}
const GLUE_GOT = [
  between('var GOTHandler=', 'var callRuntimeCallbacks='),
  between('var updateGOT=', 'var isImmutableGlobal='),
].join('\n');

interface Linker {
  GOT: Record<string, WebAssembly.Global>;
  GOTHandler: { get(weak: Set<string>, sym: string): WebAssembly.Global };
  updateGOT(exports: object, replace?: boolean): void;
  settings: object;
}

/** A GOT with Emscripten's code over it, and a function table as `addFunction` keeps one. */
function linker(): Linker {
  const table = new Map<unknown, number>();
  const addFunction = (f: unknown): number => {
    if (!table.has(f)) table.set(f, table.size + 1);
    return table.get(f)!;
  };
  const getFunctionAddress = (f: unknown): number => table.get(f) ?? 0;
  const isInternalSym = (s: string): boolean => s === 'memory' || s.startsWith('__');
  const GOT: Record<string, WebAssembly.Global> = {};
  const make = new Function(
    'GOT',
    'addFunction',
    'isInternalSym',
    `${GLUE_GOT}\nreturn { GOTHandler, updateGOT };`,
  ) as (...a: unknown[]) => Pick<Linker, 'GOTHandler' | 'updateGOT'>;
  const { GOTHandler, updateGOT } = make(GOT, addFunction, isInternalSym);
  return { GOT, GOTHandler, updateGOT, settings: { GOT, getFunctionAddress, isInternalSym } };
}

/** The main module's exports: functions, a data symbol's address, internal symbols. */
function mainExports(): Record<string, unknown> {
  const exports: Record<string, unknown> = {
    memory: new WebAssembly.Memory({ initial: 1 }),
    __stack_pointer: new WebAssembly.Global({ value: 'i32', mutable: true }, 65536),
    data_sym: new WebAssembly.Global({ value: 'i32' }, 1234),
    imported_fn: () => 0,
  };
  for (let i = 0; i < 50; i++) exports[`fn_${i}`] = () => i;
  return exports;
}

/** Boots a linker as the main module's instantiation does: imports first, then updateGOT. */
function boot(lazy: boolean, exports: Record<string, unknown>): Linker {
  const l = linker();
  l.GOTHandler.get(new Set(), 'imported_fn'); // the instance imports GOT.func.imported_fn
  const imported = new Set(['imported_fn']);
  const done = lazy ? lazyGot(l.settings, exports, imported) : undefined;
  if (lazy) expect(done).toBeTypeOf('function');
  l.updateGOT(exports);
  if (done) expect(done()).toBe(51);
  return l;
}

describe("Emscripten's GOT with the main module's exports left lazy", () => {
  it('keeps only the imported entries as Globals, and gives every other its value on read', () => {
    const exports = mainExports();
    const eager = boot(false, exports);
    const lazy = boot(true, exports);
    expect(Object.keys(eager.GOT)).toHaveLength(52);
    expect(Object.keys(lazy.GOT)).toEqual(['imported_fn']);
    for (const sym of Object.keys(eager.GOT)) {
      expect(lazy.GOT[sym]!.value, sym).toBe(eager.GOT[sym]!.value);
    }
    expect(lazy.GOT.data_sym!.value).toBe(1234);
    expect(lazy.GOT.__stack_pointer).toBeUndefined();
    expect(lazy.GOT.memory).toBeUndefined();
    expect(lazy.GOT.not_a_symbol).toBeUndefined();
  });

  it("gives a side module's import the same Global each time, and writes reach it", () => {
    const exports = mainExports();
    const l = boot(true, exports);
    const first = l.GOTHandler.get(new Set(), 'fn_7');
    expect(first.value).toBe(l.GOTHandler.get(new Set(), 'fn_7').value);
    expect(l.GOT.fn_7).toBe(first);
    // A side module that overrides fn_7 (replace) and adds a symbol of its own.
    const before = first.value;
    const side = { fn_7: () => 70, side_fn: () => 71 };
    l.updateGOT(side, true);
    expect(l.GOT.fn_7).toBe(first);
    expect(first.value).not.toBe(before);
    expect(l.GOT.side_fn!.value).toBeGreaterThan(0);
    // An unresolved import is created at -1, as Emscripten expects, and stays an own entry.
    const missing = l.GOTHandler.get(new Set(), 'from_another_lib');
    expect(missing.value).toBe(-1);
    expect(Object.keys(l.GOT)).toContain('from_another_lib');
  });

  it('leaves a GOT it does not recognise alone', () => {
    const l = linker();
    l.GOT.x = new WebAssembly.Global({ value: 'i32', mutable: true }, 1);
    l.GOT.y = new WebAssembly.Global({ value: 'i32', mutable: true }, 2);
    expect(lazyGot(l.settings, mainExports(), new Set(['x']))).toBeUndefined();
    expect(lazyGot({}, mainExports(), new Set())).toBeUndefined();
    expect(Object.getPrototypeOf(l.GOT)).toBe(Object.prototype);
  });
});
