// A build that keeps its heap (`keepImage`, as `pyworkers dev` builds): the first load of that
// bundle in this process takes the heap instead of decoding the snapshot, and ends up with the
// very image a decode gives. Real Pyodide, a real build.

import { cacheDir } from '@pyworkers/common';
import { describe, expect, it } from 'vitest';
import { buildBundle, decodeBundle } from '../src/index.js';
import { takeKeptHeap } from '../src/internal/kept-heaps.js';
import { prepareBundle } from '../src/internal/prepared.js';

const entry = `
DATA = {i: str(i) * 3 for i in range(20000)}

def on_fetch(request, env):
    pass
`;

const input = {
  name: 'kept',
  mainModule: 'entry',
  files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
  vars: {},
};

describe('a kept heap', () => {
  it('gives the image a decode of the same bundle gives, once', async () => {
    const bytes = await buildBundle(input, { keepImage: true, encoding: 'fast' });
    const took = await prepareBundle(decodeBundle(bytes));
    // Taken by that load (a load that decoded would have left it).
    expect(takeKeptHeap(decodeBundle(bytes).snapshot!)).toBeUndefined();
    // The same bytes under another baseline key: nothing cached, so this one decodes.
    const decoded = await prepareBundle(decodeBundle(bytes), { cacheDir: `${cacheDir()}/.` });
    const a = took.image!;
    const b = decoded.image!;
    expect(a.patch!.runs).toEqual(b.patch!.runs);
    expect(Buffer.compare(Buffer.from(a.patch!.bytes), Buffer.from(b.patch!.bytes))).toBe(0);
    expect(a.base).toEqual(b.base);
    expect(a.jsRefs).toEqual(b.jsRefs);
    expect(a.monotonicMs).toBe(b.monotonicMs);
    expect(a.heap).toBe(b.heap); // both over the baseline's shared heap
    expect(a.runs).toEqual(b.runs);
  }, 120_000);

  it('is not kept by a build without keepImage, nor taken twice', async () => {
    const bytes = await buildBundle(input, { encoding: 'fast' });
    const snapshot = decodeBundle(bytes).snapshot!;
    expect(takeKeptHeap(snapshot)).toBeUndefined();
    const kept = await buildBundle(input, { keepImage: true, encoding: 'fast' });
    const keptSnapshot = decodeBundle(kept).snapshot!;
    expect(takeKeptHeap(keptSnapshot)).toBeDefined();
    expect(takeKeptHeap(keptSnapshot)).toBeUndefined();
  }, 120_000);
});
