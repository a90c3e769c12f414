// Test fixtures: deterministic heaps shaped like a Pyodide heap, and a seeded PRNG.
import type { WasmMemoryLike } from '../src/decode.js';
import { SnapshotError } from '../src/errors.js';
import type { SnapshotMeta } from '../src/meta.js';

/** mulberry32: a tiny seeded PRNG, so every fuzz failure reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

const WORDS = ['PyObject', '__init__', 'import', 'sys', 'builtins', 'encodings', 'utf-8', 'None'];

/**
 * A heap like a bare interpreter's: about half of its 4 KiB pages zero (in long runs), the rest
 * a mix of text, pointer-like words and noise.
 */
export function syntheticHeap(bytes: number, seed = 1): Uint8Array {
  const rand = prng(seed);
  const heap = new Uint8Array(bytes);
  const view = new DataView(heap.buffer);
  let page = 0;
  const pages = Math.ceil(bytes / 4096);
  while (page < pages) {
    const run = 1 + randInt(rand, 24);
    const zero = rand() < 0.5;
    for (let p = page; p < Math.min(page + run, pages); p++) {
      if (zero) continue;
      const start = p * 4096;
      const end = Math.min(start + 4096, bytes);
      const style = randInt(rand, 3);
      for (let o = start; o + 4 <= end; o += 4) {
        if (style === 0) {
          const w = WORDS[randInt(rand, WORDS.length)]!;
          for (let k = 0; k < 4; k++) heap[o + k] = w.charCodeAt((o + k) % w.length);
        } else if (style === 1) {
          view.setUint32(o, 0x100000 + randInt(rand, 0x200000) * 8, true);
        } else if (rand() < 0.3) {
          view.setUint32(o, randInt(rand, 2 ** 32), true);
        }
      }
      heap[start] = 1 + randInt(rand, 255); // never an accidental zero page
    }
    page += run;
  }
  return heap;
}

/** A copy of `base` with a few pages changed: a dedicated snapshot on top of a baseline. */
export function derivedHeap(base: Uint8Array, changedPages: number, seed = 2): Uint8Array {
  const rand = prng(seed);
  const heap = base.slice();
  const pages = Math.ceil(base.length / 4096);
  for (let i = 0; i < changedPages; i++) {
    const p = randInt(rand, pages);
    for (let k = 0; k < 64; k++) heap[p * 4096 + randInt(rand, 4096)] = randInt(rand, 256);
  }
  return heap;
}

export function metaFor(heap: Uint8Array, overrides: Partial<SnapshotMeta> = {}): SnapshotMeta {
  return {
    pyodideVersion: '314.0.7',
    pyodideBuildId: 'a'.repeat(64),
    pythonVersion: '3.14.2',
    kind: 'dedicated',
    heapSize: heap.length,
    pageSize: 65536,
    hashSeed: 42,
    importedModules: ['sys', 'json'],
    loadedLibraries: [{ path: '/lib/libfoo.so', memoryBase: 1024, tableBase: 8 }],
    jsRefs: { hiwireKeys: [null], immortalKeys: [] },
    app: { worker: 'hello' },
    ...overrides,
  };
}

/** The error code a call throws, or `ok` when it returns. Anything but a SnapshotError is rethrown. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof SnapshotError) return e.code;
    throw e;
  }
}

/** Byte equality without vitest's element-by-element diff (slow on megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A real `WebAssembly.Memory` (Node's types do not declare the WebAssembly namespace). */
export function wasmMemory(initial: number, maximum: number): WasmMemoryLike {
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: MemoryCtor } }).WebAssembly;
  return new wasm.Memory({ initial, maximum });
}
type MemoryCtor = new (d: { initial: number; maximum: number }) => WasmMemoryLike;
