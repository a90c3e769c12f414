// The swap into a parked isolate writes only the pages that differ: those where the dedicated
// image differs from the baseline, and those the parked boot changed. Real Pyodide, this thread.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, decodeBundle, loadBaseline } from '../src/index.js';
import { bootAssets } from '../src/internal/assets.js';
import type { LoadedImage } from '../src/internal/images.js';
import { prepareBundle } from '../src/internal/prepared.js';
import type { HeapImage } from '../src/internal/protocol.js';
import {
  imageBytes,
  imageLength,
  parkedMemory,
  rewindParked,
  writeHeap,
  zeroFreeMemory,
} from '../src/worker/pyodide-heap.js';
import { bootRuntime, type Runtime } from '../src/worker/pyodide-runtime.js';

const entry = `
DATA = {i: str(i) * 3 for i in range(20000)}

def on_fetch(request, env):
    pass
`;

let baseline: LoadedImage;
let base: HeapImage;
let dedicated: HeapImage;

async function parked(): Promise<Runtime> {
  const rt = await bootRuntime({
    assets: await bootAssets(),
    image: base,
    makeSnapshot: false,
    env: {},
    memoryLimitBytes: 256 * 1024 * 1024,
    trackProxies: true,
    stdout: () => {},
    stderr: () => {},
  });
  // What a parked boot does after the restore: run some Python (it dirties pages).
  rt.py.runPython('import json\n_warm = json.dumps({"a": [1, 2, 3]})\ndel _warm');
  return rt;
}

const total = (runs: ArrayLike<number>) => {
  let n = 0;
  for (let i = 0; i + 1 < runs.length; i += 2) n += runs[i + 1]! - runs[i]!;
  return n;
};
/** What a full write copies: the non-zero runs of `heap`, then the patch over them. */
const fullWrite = (image: HeapImage) =>
  total(image.runs) + (image.patch ? image.patch.bytes.length : 0);

beforeAll(async () => {
  baseline = await loadBaseline();
  base = { ...baseline.image, id: baseline.id() };
  const bundle = decodeBundle(
    await buildBundle({
      name: 'pages',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: {},
    }),
  );
  dedicated = (await prepareBundle(bundle)).image!;
});

describe('writing a dedicated heap into a parked isolate', () => {
  it('names its baseline, and differs from it in a fraction of the pages', () => {
    expect(dedicated.base?.id).toBe(base.id);
    const bytes = total(dedicated.base!.differ);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(total(base.runs));
  });

  it('is kept as the blocks that differ over the shared baseline heap, not a heap of its own', () => {
    expect(dedicated.heap).toBe(baseline.image.heap);
    expect(dedicated.patch!.bytes.length).toBe(total(dedicated.patch!.runs));
    // 64-byte blocks inside the differing pages: fewer bytes than those pages (hello: 7%).
    expect(dedicated.patch!.bytes.length).toBeLessThan(total(dedicated.base!.differ));
    const differ = dedicated.base!.differ;
    const runs0 = dedicated.patch!.runs;
    for (let i = 0; i + 1 < runs0.length; i += 2) {
      expect(runs0[i]! % 64).toBe(0);
      let inside = false;
      for (let j = 0; j + 1 < differ.length; j += 2) {
        inside ||= differ[j]! <= runs0[i]! && runs0[i + 1]! <= differ[j + 1]!;
      }
      expect(inside).toBe(true);
    }
    // The image's bytes are the baseline's except in those blocks.
    const full = imageBytes(dedicated);
    expect(full.length).toBe(imageLength(dedicated));
    expect(full.length).toBeGreaterThanOrEqual(base.heap.length);
    const runs = dedicated.patch!.runs;
    for (let i = 0, at = 0; i + 1 < runs.length; at += runs[i + 1]! - runs[i]!, i += 2) {
      const page = full.subarray(runs[i]!, runs[i + 1]!);
      expect(Buffer.compare(page, dedicated.patch!.bytes.subarray(at, at + page.length))).toBe(0);
    }
    expect(Buffer.compare(full.subarray(0, runs[0]!), base.heap.subarray(0, runs[0]!))).toBe(0);
  });

  it('writes only what differs, and memory then equals the image byte for byte', async () => {
    const rt = await parked();
    const record = parkedMemory(rt.module, base, rt.guard.entries)!;
    expect(record.dirty.length).toBeGreaterThan(0);
    const copied = writeHeap(rt.module, dedicated, { ...record, entriesNow: rt.guard.entries });
    expect(copied).toBeLessThan(fullWrite(dedicated));
    expect(Buffer.compare(rt.module.HEAPU8, imageBytes(dedicated))).toBe(0);
  });

  it('rewinds a parked heap to its baseline, after which a swap writes only the patch', async () => {
    const rt = await parked();
    const record = parkedMemory(rt.module, base, rt.guard.entries)!;
    expect(record.dirty.length).toBeGreaterThan(0);
    const rewound = rewindParked(rt.module, base, record);
    expect(rewound.dirty).toEqual([]);
    expect(Buffer.compare(rt.module.HEAPU8, base.heap)).toBe(0);
    const copied = writeHeap(rt.module, dedicated, { ...rewound, entriesNow: rt.guard.entries });
    expect(copied).toBe(dedicated.patch!.bytes.length);
    expect(Buffer.compare(rt.module.HEAPU8, imageBytes(dedicated))).toBe(0);
  });

  it('keeps a heap grown past the baseline as a patch too, and swaps it byte for byte', async () => {
    const grown = (
      await prepareBundle(
        decodeBundle(
          await buildBundle({
            name: 'grown',
            mainModule: 'entry',
            files: new Map([
              [
                'entry.py',
                new TextEncoder().encode(
                  'PAD = bytearray(24 << 20)\nTAIL = [str(i) for i in range(3000)]\n\ndef on_fetch(request, env):\n    pass\n',
                ),
              ],
            ]),
            vars: {},
          }),
        ),
      )
    ).image!;
    expect(grown.heap).toBe(baseline.image.heap);
    expect(imageLength(grown)).toBeGreaterThan(base.heap.length);
    // The zero pages past the baseline's end are not in the patch.
    expect(grown.patch!.bytes.length).toBeLessThan(4 << 20);
    const rt = await parked();
    const record = rewindParked(rt.module, base, parkedMemory(rt.module, base, rt.guard.entries)!);
    const copied = writeHeap(rt.module, grown, { ...record, entriesNow: rt.guard.entries });
    expect(copied).toBe(grown.patch!.bytes.length);
    expect(Buffer.compare(rt.module.HEAPU8, imageBytes(grown))).toBe(0);
  });

  it('writes every page when the heap was entered after the record was taken', async () => {
    const rt = await parked();
    const record = parkedMemory(rt.module, base, rt.guard.entries)!;
    // A finalizer or timer ran into Python since: the record no longer says what changed.
    rt.py.runPython('_late = [str(i) for i in range(5000)]');
    const copied = writeHeap(rt.module, dedicated, { ...record, entriesNow: record.entries + 1 });
    expect(copied).toBe(fullWrite(dedicated));
    expect(Buffer.compare(rt.module.HEAPU8, imageBytes(dedicated))).toBe(0);
  });

  it('writes every page into an isolate booted from another baseline', async () => {
    const rt = await parked();
    const record = parkedMemory(rt.module, base, rt.guard.entries)!;
    const copied = writeHeap(rt.module, dedicated, {
      ...record,
      id: 'another-baseline',
      entriesNow: rt.guard.entries,
    });
    expect(copied).toBe(fullWrite(dedicated));
    expect(Buffer.compare(rt.module.HEAPU8, imageBytes(dedicated))).toBe(0);
  });

  it('leaves the free lists in one order whatever order they were in (a second sweep changes little)', async () => {
    const rt = await parked();
    // Free blocks in a history-dependent order: allocate, then free every other one.
    rt.py.runPython('_t = [bytes(200) for _ in range(3000)]\ndel _t[::2]\ndel _t');
    zeroFreeMemory(rt.module);
    const once = new Uint8Array(rt.module.HEAPU8);
    const zeroed = zeroFreeMemory(rt.module);
    // Without the address order each sweep reverses every free list, and about half the bytes
    // it zeroes lie in pages that change (measured: 4.3 MB). In address order a few allocator
    // heads still move (measured: 22 pages, 90 KB).
    expect(zeroed).toBeGreaterThan(1 << 20);
    expect(differingBytes(rt.module.HEAPU8, once)).toBeLessThan(zeroed / 16);
  });
});

function differingBytes(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 4096) {
    if (Buffer.compare(a.subarray(i, i + 4096), b.subarray(i, i + 4096)) !== 0) n += 4096;
  }
  return n;
}
