// Heap images in and out of the interpreter's linear memory.
import type { PyodideAPI } from 'pyodide';
import { IsolateError } from '../errors.js';
import { differingRuns } from '../internal/page-diff.js';
import type { HeapImage } from '../internal/protocol.js';
import type { EmModule } from './pyodide-pin.js';

/** What a parked isolate's memory is: the baseline it booted from, and the pages it changed since. */
export interface ParkedMemory {
  /** The baseline's {@link HeapImage.id}. */
  id: string;
  /** Byte ranges [start, end) of the 64 KiB pages that differ from the baseline. */
  dirty: number[];
  /** The guards' count of calls into the heap when `dirty` was taken: any since voids it. */
  entries: number;
  /** The memory's length then: past it, memory grown later reads as zero. */
  bytes: number;
}

/** The length of the heap an image holds (a patch may reach past its base heap's end). */
export function imageLength(image: HeapImage): number {
  return image.patch?.heapBytes ?? image.heap.length;
}

/** The union of two sorted lists of byte ranges [start, end, ...], as sorted ranges. */
function unionRuns(a: number[], b: number[]): number[] {
  const all: [number, number][] = [];
  for (const r of [a, b]) for (let i = 0; i + 1 < r.length; i += 2) all.push([r[i]!, r[i + 1]!]);
  all.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [s, e] of all) {
    if (out.length > 0 && s <= out[out.length - 1]!) {
      out[out.length - 1] = Math.max(out[out.length - 1]!, e);
    } else out.push(s, e);
  }
  return out;
}

/**
 * Copies byte ranges `runs` [start, end, ...] into `mem` from `src`: from the same offsets, or
 * (`packed`) from `src`'s bytes one run after another. Returns the bytes copied. Short runs are
 * copied word by word (a swap writes thousands of 64-byte blocks: a typed-array view and a
 * `set` each cost more than the copy).
 */
export function copyRuns(
  mem: Uint8Array,
  runs: ArrayLike<number>,
  src: Uint8Array,
  packed: boolean,
): number {
  const words = mem.byteOffset % 4 === 0 && src.byteOffset % 4 === 0;
  const dst32 = words ? new Int32Array(mem.buffer, mem.byteOffset, mem.length >>> 2) : undefined;
  const src32 = words ? new Int32Array(src.buffer, src.byteOffset, src.length >>> 2) : undefined;
  let at = 0;
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const start = runs[i]!;
    const n = runs[i + 1]! - start;
    const from = packed ? at : start;
    if (dst32 && src32 && n <= SHORT_RUN && (start | from | n) % 4 === 0) {
      for (let d = start >>> 2, s = from >>> 2, end = d + (n >>> 2); d < end; d++, s++) {
        dst32[d] = src32[s]!;
      }
    } else mem.set(src.subarray(from, from + n), start);
    at += n;
  }
  return at;
}
/**
 * `bytes` as a plain `Uint8Array` (a `Buffer` is a subclass): {@link copyRuns} then always sees
 * the same types, and the code V8 optimized for them while parked stays valid in the swap.
 */
function plainView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
/** Runs up to this many bytes are copied by words. */
const SHORT_RUN = 1024;

/**
 * Runs {@link copyRuns} on scratch memory until V8 runs it optimized (a call takes a fraction of
 * the first one's time, or 40 rounds passed), yielding between rounds so a background compile
 * can finish: a parked isolate does this before parking, so the swap's thousands of short
 * copies do not run in the interpreter (measured: 2-5 ms there against 0.3-0.5 ms optimized
 * for hello's 2,724 blocks). Returns the rounds taken.
 */
export async function warmCopyRuns(mem: () => Uint8Array): Promise<number> {
  // The types a swap passes: memory itself (its bytes written back unchanged, and only in pages
  // that hold data: no page is faulted in), runs and bytes in shared memory. Short runs and,
  // every 32nd, a long one: both ways of copying get their type feedback (a way first met in
  // the swap deoptimized the copy there: 2-5 ms instead of 0.3-0.6).
  const heap = mem();
  const list: number[] = [];
  for (let at = 0; at + 4096 <= heap.length && list.length < 2 * 512; at += 4096) {
    const end = at + (list.length % 64 === 0 ? 2 * SHORT_RUN : 64 + (at % 192));
    if (heap.subarray(at, end).some((b) => b !== 0)) list.push(at, end);
  }
  const runs = new Int32Array(new SharedArrayBuffer(4 * list.length));
  runs.set(list);
  const bytes = new Uint8Array(new SharedArrayBuffer(4096 * (list.length / 2)));
  let first = 0;
  for (let round = 1; round <= 40; round++) {
    // Taken again each round: nothing runs in the heap meanwhile, but its views may change.
    const m = mem();
    gatherRuns(m, runs, bytes);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) copyRuns(m, runs, bytes, true);
    const ms = performance.now() - t0;
    if (round === 1) first = ms;
    else if (ms < first / 4) return round;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return 40;
}

/** The bytes of `runs` of `mem`, one run after another, into `out`. */
function gatherRuns(mem: Uint8Array, runs: Int32Array, out: Uint8Array): void {
  for (let i = 0, at = 0; i + 1 < runs.length; i += 2) {
    out.set(mem.subarray(runs[i]!, runs[i + 1]!), at);
    at += runs[i + 1]! - runs[i]!;
  }
}

/** Writes an image's patch (see {@link HeapImage.patch}) over memory; returns the bytes written. */
function writePatch(mem: Uint8Array, image: HeapImage): number {
  return image.patch ? copyRuns(mem, image.patch.runs, image.patch.bytes, true) : 0;
}

/**
 * The bytes of an image as one heap (tests, benches): `heap` itself, or for an image kept as a
 * patch over its baseline a copy with the patch applied.
 */
export function imageBytes(image: HeapImage): Uint8Array {
  if (!image.patch) return image.heap;
  const out = new Uint8Array(imageLength(image));
  out.set(image.heap);
  writePatch(out, image);
  return out;
}

/**
 * Writes an image into linear memory. Into a parked isolate booted from the image's own
 * baseline, only the pages where the image differs from that baseline and the pages the parked
 * boot changed are written (the rest already holds the image's bytes). Otherwise only non-zero
 * runs are copied, and the rest is zeroed. An image kept as a patch over its baseline
 * ({@link HeapImage.patch}: `heap` is the baseline's) is written as that heap, then the patch.
 * Returns the bytes copied.
 */
export function writeHeap(
  M: EmModule,
  image: HeapImage,
  parked?: ParkedMemory & { entriesNow: number },
): number {
  const length = imageLength(image);
  if (M.HEAPU8.length < length) M.growMemory(length);
  const mem = M.HEAPU8;
  if (mem.length < length) {
    throw new IsolateError(
      'ERR_ISOLATE_MEMORY_LIMIT',
      `cannot grow the heap to the snapshot's ${length} bytes`,
    );
  }
  if (
    parked &&
    parked.entries === parked.entriesNow &&
    image.base?.id === parked.id &&
    parked.bytes <= image.heap.length &&
    mem.length === length
  ) {
    // With a patch, `heap` is the baseline: the pages the parked boot dirtied go back to it,
    // then the patch writes every 64-byte block where the image differs.
    const write = image.patch ? parked.dirty : unionRuns(image.base.differ, parked.dirty);
    // One type of runs for every call: the copy stays optimized from the parked warm-up.
    const copied = copyRuns(mem, Int32Array.from(write), plainView(image.heap), false);
    const n = writePatch(mem, image);
    return copied + n;
  }
  let copied = 0;
  let pos = 0;
  const r = image.runs;
  for (let i = 0; i + 1 < r.length; i += 2) {
    const start = r[i]!;
    const end = r[i + 1]!;
    zeroDirtyPages(mem, pos, start);
    mem.set(image.heap.subarray(start, end), start);
    copied += end - start;
    pos = end;
  }
  zeroDirtyPages(mem, pos, mem.length);
  return copied + writePatch(mem, image);
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
 * Snapshots the interpreter; JS objects Python still references that are not reachable from
 * `globalThis` by a path (so cannot be restored) are collected into `unrestorable`.
 */
export function makeSnapshot(rt: { py: PyodideAPI }, unrestorable: unknown[]): Uint8Array {
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

interface MallocExports {
  HEAPU32: Uint32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _emscripten_get_sbrk_ptr(): number;
  _PyObject_Malloc(bytes: number): number;
  _PyObject_Free(ptr: number): void;
}

/**
 * Zeroes the heap's free memory before a snapshot: Python's free small-object blocks and pools,
 * then malloc's free chunks and its unused top, all below the current break. Freed data left
 * there would otherwise travel in the snapshot (as literal pages of the delta) and be written
 * into every restored isolate. Measured on a Flask + requests worker: 2.9 MB zeroed, snapshot
 * 3.84 -> 3.50 MiB. Each block is taken with malloc, zeroed, and freed again, so the allocators'
 * own bookkeeping stays theirs. Returns the bytes zeroed.
 */
export function zeroFreeMemory(M: EmModule): number {
  const m = M as unknown as MallocExports;
  const brk = (): number => m.HEAPU32[m._emscripten_get_sbrk_ptr() >>> 2]!;
  const limit = brk();
  /** Takes blocks of each size until one would come from beyond the break; zeroes, frees them. */
  const sweep = (
    sizes: number[],
    alloc: (n: number) => number,
    free: (p: number) => void,
  ): number => {
    const taken: number[] = [];
    let zeroed = 0;
    for (const size of sizes) {
      for (;;) {
        const before = brk();
        const p = alloc(size);
        if (p === 0) break;
        if (brk() !== before || p + size > limit) {
          free(p);
          break;
        }
        M.HEAPU8.fill(0, p, p + size);
        taken.push(p);
        zeroed += size;
      }
    }
    // Freed from the highest address down, so each free list ends up in address order whatever
    // order the blocks were free in before: a worker's snapshot then shares the free-list links
    // of every pool and chunk it did not touch with its baseline (hello: 5.9 -> 4.8 MiB of pages
    // that differ from the baseline, so written by every swap).
    taken.sort((x, y) => y - x);
    for (const p of taken) free(p);
    return zeroed;
  };
  // Python's small-object classes first (its empty pools then go back to malloc), then malloc.
  const smallClasses = Array.from({ length: 32 }, (_, i) => 512 - 16 * i);
  const mallocSizes = Array.from({ length: 15 }, (_, i) => 1 << (20 - i));
  return (
    sweep(
      smallClasses,
      (n) => m._PyObject_Malloc(n),
      (p) => m._PyObject_Free(p),
    ) +
    sweep(
      mallocSizes,
      (n) => m._malloc(n),
      (p) => m._free(p),
    )
  );
}

/**
 * Writes the baseline back over the pages a parked boot changed (`record.dirty`), so a swap
 * into this isolate writes only where its image differs from the baseline. Only once nothing
 * will run in this heap until the swap: the caller drops the old life first (its finalizers and
 * timers would enter a heap that no longer matches its JS side). Memory that grew past the
 * baseline keeps its record as it was.
 */
export function rewindParked(M: EmModule, baseline: HeapImage, record: ParkedMemory): ParkedMemory {
  if (M.HEAPU8.length !== baseline.heap.length) return record;
  copyRuns(M.HEAPU8, Int32Array.from(record.dirty), plainView(baseline.heap), false);
  return { ...record, dirty: [] };
}

/** What the parked boot left in memory, compared with the baseline it booted from. */
export function parkedMemory(
  M: EmModule,
  baseline: HeapImage,
  entries: number,
): ParkedMemory | undefined {
  if (!baseline.id) return undefined;
  return {
    id: baseline.id,
    dirty: differingRuns(M.HEAPU8, baseline.heap),
    entries,
    bytes: M.HEAPU8.length,
  };
}
