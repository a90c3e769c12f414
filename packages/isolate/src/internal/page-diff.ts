// Page-level comparison of two heaps (main thread: a dedicated image against its baseline, once
// per bundle; worker thread: a parked isolate's memory against the baseline it booted from).
// By 4 KiB page: at 64 KiB nearly every page holding data differs somewhere (hello: 11.3 of its
// 13.4 MiB of non-zero pages, against 5.6 MiB at 4 KiB).

const PAGE = 4096;
const ZERO = new Uint8Array(PAGE);

/**
 * Byte ranges [start, end) of the 64 KiB pages where `a` differs from `base` (past the end of
 * `base`: where `a` is not zero), adjacent pages merged.
 */
export function differingRuns(a: Uint8Array, base: Uint8Array): number[] {
  const runs: number[] = [];
  for (let page = 0; page < a.length; page += PAGE) {
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
