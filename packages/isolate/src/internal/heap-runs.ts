/** Granularity of the zero-page scan: one WebAssembly page. */
export const HEAP_PAGE_BYTES = 65536;

const ZERO_PAGE = new Uint8Array(HEAP_PAGE_BYTES);

/**
 * Byte ranges of `heap` that hold non-zero pages, flattened as [start, end, start, end, ...]
 * (adjacent non-zero pages merged). A restore copies only these and zeroes the rest, which
 * halves the page faults on a bare interpreter's heap (about half of it is zero pages).
 * @example const runs = nonZeroRuns(heap); // [0, 1048576, 2097152, 15728640]
 */
export function nonZeroRuns(heap: Uint8Array): number[] {
  const runs: number[] = [];
  let runStart = -1;
  for (let off = 0; off < heap.length; off += HEAP_PAGE_BYTES) {
    const end = Math.min(off + HEAP_PAGE_BYTES, heap.length);
    // A native memcmp against a zero page; a JS loop over the words is ~10x slower.
    const zero = Buffer.compare(heap.subarray(off, end), ZERO_PAGE.subarray(0, end - off)) === 0;
    if (!zero && runStart < 0) runStart = off;
    if (zero && runStart >= 0) {
      runs.push(runStart, off);
      runStart = -1;
    }
  }
  if (runStart >= 0) runs.push(runStart, heap.length);
  return runs;
}
