// Page-level comparison of two heaps (main thread: a dedicated image against its baseline, once
// per bundle; worker thread: a parked isolate's memory against the baseline it booted from).
// By 4 KiB page: at 64 KiB nearly every page holding data differs somewhere (hello: 11.3 of its
// 13.4 MiB of non-zero pages, against 5.6 MiB at 4 KiB).

const PAGE = 4096;
/** Compared first: most of a heap equals its baseline (a parked boot dirties ~1% of it). */
const BLOCK = 16 * PAGE;
const ZERO = new Uint8Array(PAGE);

/**
 * Byte ranges [start, end) of the 64 KiB pages where `a` differs from `base` (past the end of
 * `base`: where `a` is not zero), adjacent pages merged.
 */
export function differingRuns(a: Uint8Array, base: Uint8Array): number[] {
  const runs: number[] = [];
  const shared = Math.min(a.length, base.length);
  for (let page = 0; page < a.length; page += PAGE) {
    // A whole 64 KiB block that is equal is skipped with one call instead of sixteen.
    while (
      page % BLOCK === 0 &&
      page + BLOCK <= shared &&
      Buffer.compare(a.subarray(page, page + BLOCK), base.subarray(page, page + BLOCK)) === 0
    ) {
      page += BLOCK;
    }
    if (page >= a.length) break;
    const end = Math.min(page + PAGE, a.length);
    const other = page < base.length ? base.subarray(page, Math.min(end, base.length)) : ZERO;
    const mine = a.subarray(page, page + other.length);
    let differs = Buffer.compare(mine, other.subarray(0, mine.length)) !== 0;
    // A page that runs past the end of `base` differs where its tail is not zero.
    if (!differs && end - page > mine.length) {
      const tail = a.subarray(page + mine.length, end);
      differs = Buffer.compare(tail, ZERO.subarray(0, tail.length)) !== 0;
    }
    if (!differs) continue;
    if (runs.length > 0 && runs[runs.length - 1] === page) runs[runs.length - 1] = end;
    else runs.push(page, end);
  }
  return runs;
}

/**
 * Blocks of {@link differingBlocks}. A page that differs from its baseline mostly differs in a
 * few words (reference counts, free-list links): hello's 4.9 MiB of differing pages hold 78 KiB
 * of changed bytes, 0.33 MiB in 64-byte blocks (2,768 runs a swap writes).
 */
const BLOCK_BYTES = 64;

/**
 * Byte ranges [start, end) of the 64-byte blocks inside `pages` (sorted ranges, as
 * {@link differingRuns} returns) where `a` differs from `base` (past the end of `base`: where
 * `a` is not zero), adjacent blocks merged.
 */
export function differingBlocks(a: Uint8Array, base: Uint8Array, pages: number[]): number[] {
  // Word by word where both heaps are whole words (they are: wasm pages), else byte by byte.
  const aligned = [a.byteOffset, a.length, base.byteOffset, base.length].every((n) => n % 4 === 0);
  const aw = aligned ? new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2) : undefined;
  const bw = aligned ? new Uint32Array(base.buffer, base.byteOffset, base.length >>> 2) : undefined;
  const differs = (from: number, to: number): boolean => {
    if (aw && bw && to % 4 === 0) {
      for (let w = from >>> 2; w < to >>> 2; w++) {
        if (aw[w] !== (w < bw.length ? bw[w] : 0)) return true;
      }
      return false;
    }
    for (let i = from; i < to; i++) if (a[i] !== (i < base.length ? base[i] : 0)) return true;
    return false;
  };
  const runs: number[] = [];
  for (let i = 0; i + 1 < pages.length; i += 2) {
    for (let at = pages[i]!; at < pages[i + 1]!; at += BLOCK_BYTES) {
      const end = Math.min(at + BLOCK_BYTES, pages[i + 1]!);
      if (!differs(at, end)) continue;
      if (runs.length > 0 && runs[runs.length - 1] === at) runs[runs.length - 1] = end;
      else runs.push(at, end);
    }
  }
  return runs;
}
