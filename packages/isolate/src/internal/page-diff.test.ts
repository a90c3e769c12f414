import { describe, expect, it } from 'vitest';
import { differingBlocks, differingRuns } from './page-diff.js';

const PAGE = 4096;

/** The definition: page by page, past the end of `base` against zero. */
function naive(a: Uint8Array, base: Uint8Array): number[] {
  const runs: number[] = [];
  for (let page = 0; page < a.length; page += PAGE) {
    const end = Math.min(page + PAGE, a.length);
    let differs = false;
    for (let i = page; i < end && !differs; i++) differs = a[i] !== (i < base.length ? base[i] : 0);
    if (!differs) continue;
    if (runs.length > 0 && runs[runs.length - 1] === page) runs[runs.length - 1] = end;
    else runs.push(page, end);
  }
  return runs;
}

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('differingRuns', () => {
  it('finds the same pages as a byte-by-byte comparison, whatever the sizes and changes', () => {
    const r = rng(7);
    for (let round = 0; round < 60; round++) {
      const baseLen = Math.floor(r() * 40 * PAGE) + (round % 3 === 0 ? 0 : 123);
      const base = new Uint8Array(baseLen).map(() => (r() < 0.3 ? Math.floor(r() * 256) : 0));
      const aLen = Math.max(0, baseLen + Math.floor((r() - 0.3) * 20 * PAGE));
      const a = new Uint8Array(aLen);
      a.set(base.subarray(0, Math.min(aLen, baseLen)));
      const changes = Math.floor(r() * 12);
      for (let k = 0; k < changes && aLen > 0; k++) {
        const i = Math.floor(r() * aLen);
        a[i] = a[i]! ^ (1 + Math.floor(r() * 255));
      }
      expect(differingRuns(a, base)).toEqual(naive(a, base));
    }
  });

  it('reports nothing for equal heaps and whole blocks for a heap that grew', () => {
    const base = new Uint8Array(64 * PAGE).fill(1);
    expect(differingRuns(base.slice(), base)).toEqual([]);
    const grown = new Uint8Array(70 * PAGE).fill(1);
    expect(differingRuns(grown, base)).toEqual([64 * PAGE, 70 * PAGE]);
  });

  it('narrows differing pages to the 64-byte blocks that differ; those blocks over base give a', () => {
    const r = rng(11);
    for (let round = 0; round < 60; round++) {
      const baseLen = Math.floor(r() * 20 * PAGE) + (round % 3 === 0 ? 0 : 123);
      const base = new Uint8Array(baseLen).map(() => (r() < 0.3 ? Math.floor(r() * 256) : 0));
      const aLen = Math.max(0, baseLen + Math.floor((r() - 0.3) * 10 * PAGE));
      const a = new Uint8Array(aLen);
      a.set(base.subarray(0, Math.min(aLen, baseLen)));
      for (let k = 0; k < Math.floor(r() * 40) && aLen > 0; k++) {
        const i = Math.floor(r() * aLen);
        a[i] = a[i]! ^ (1 + Math.floor(r() * 255));
      }
      const blocks = differingBlocks(a, base, differingRuns(a, base));
      const rebuilt = new Uint8Array(aLen);
      rebuilt.set(base.subarray(0, Math.min(aLen, baseLen)));
      for (let i = 0; i + 1 < blocks.length; i += 2) {
        const [s, e] = [blocks[i]!, blocks[i + 1]!];
        expect(s % 64).toBe(0);
        rebuilt.set(a.subarray(s, e), s);
      }
      expect(Buffer.compare(rebuilt, a)).toBe(0);
      // Each block is one that differs: none is written for nothing.
      for (let i = 0; i + 1 < blocks.length; i += 2) {
        for (let s = blocks[i]!; s < blocks[i + 1]!; s += 64) {
          const e = Math.min(s + 64, aLen);
          const other = new Uint8Array(e - s);
          other.set(base.subarray(s, Math.min(e, baseLen)));
          expect(Buffer.compare(a.subarray(s, e), other)).not.toBe(0);
        }
      }
    }
  });
});
