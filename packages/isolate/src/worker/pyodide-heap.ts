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

/** Writes an image's patch (see {@link HeapImage.patch}) over memory; returns the bytes written. */
function writePatch(mem: Uint8Array, image: HeapImage): number {
  const patch = image.patch;
  if (!patch) return 0;
  let at = 0;
  for (let i = 0; i + 1 < patch.runs.length; i += 2) {
    const n = patch.runs[i + 1]! - patch.runs[i]!;
    mem.set(patch.bytes.subarray(at, at + n), patch.runs[i]!);
    at += n;
  }
  return at;
}

/**
 * The bytes of an image as one heap (tests, benches): `heap` itself, or for an image kept as a
 * patch over its baseline a copy with the patch applied.
 */
export function imageBytes(image: HeapImage): Uint8Array {
  if (!image.patch) return image.heap;
  const out = new Uint8Array(image.heap);
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
  if (M.HEAPU8.length < image.heap.length) M.growMemory(image.heap.length);
  const mem = M.HEAPU8;
  if (mem.length < image.heap.length) {
    throw new IsolateError(
      'ERR_ISOLATE_MEMORY_LIMIT',
      `cannot grow the heap to the snapshot's ${image.heap.length} bytes`,
    );
  }
  if (
    parked &&
    parked.entries === parked.entriesNow &&
    image.base?.id === parked.id &&
    mem.length === image.heap.length
  ) {
    // With a patch, `heap` is the baseline: the pages the parked boot dirtied go back to it,
    // then the patch writes every 64-byte block where the image differs.
    const write = image.patch ? parked.dirty : unionRuns(image.base.differ, parked.dirty);
    let copied = 0;
    for (let i = 0; i + 1 < write.length; i += 2) {
      mem.set(image.heap.subarray(write[i]!, write[i + 1]!), write[i]!);
      copied += write[i + 1]! - write[i]!;
    }
    return copied + writePatch(mem, image);
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

/** What the parked boot left in memory, compared with the baseline it booted from. */
export function parkedMemory(
  M: EmModule,
  baseline: HeapImage,
  entries: number,
): ParkedMemory | undefined {
  if (!baseline.id) return undefined;
  return { id: baseline.id, dirty: differingRuns(M.HEAPU8, baseline.heap), entries };
}
