import { describe, expect, it } from 'vitest';
import { HEAP_PAGE_BYTES, nonZeroRuns } from './heap-runs.js';

const P = HEAP_PAGE_BYTES;

describe('nonZeroRuns', () => {
  it('merges adjacent non-zero pages and skips zero pages', () => {
    const heap = new Uint8Array(6 * P);
    heap[5] = 1; // page 0
    heap[P + 7] = 2; // page 1
    heap[4 * P + P - 1] = 3; // last byte of page 4
    expect(nonZeroRuns(heap)).toEqual([0, 2 * P, 4 * P, 5 * P]);
  });

  it('returns nothing for an all-zero heap and covers a partial last page', () => {
    expect(nonZeroRuns(new Uint8Array(3 * P))).toEqual([]);
    const heap = new Uint8Array(P + 100);
    heap[P + 99] = 9;
    expect(nonZeroRuns(heap)).toEqual([P, P + 100]);
  });

  it('reads an unaligned view the same way', () => {
    const backing = new Uint8Array(2 * P + 3);
    backing[3 + P + 10] = 1;
    expect(nonZeroRuns(backing.subarray(3))).toEqual([P, 2 * P]);
  });
});
