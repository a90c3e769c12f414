// Heap images in and out of the interpreter's linear memory.
import type { PyodideAPI } from 'pyodide';
import { IsolateError } from '../errors.js';
import type { HeapImage } from '../internal/protocol.js';
import type { EmModule } from './pyodide-pin.js';

/** Writes an image into linear memory: only non-zero runs are copied, the rest is zeroed. */
export function writeHeap(M: EmModule, image: HeapImage): void {
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
