import { describe, expect, it } from 'vitest';
import {
  codeOf,
  derivedHeap,
  metaFor,
  sameBytes,
  syntheticHeap,
  wasmMemory,
} from '../test/fixtures.js';
import { availableCodecs } from './codecs.js';
import { decodeSnapshot } from './decode.js';
import { encodeSnapshot } from './encode.js';
import { inspectSnapshot } from './inspect.js';
import { snapshotReference } from './reference.js';

const heap = syntheticHeap(1024 * 1024 + 4096 * 3 + 100, 11);
const meta = metaFor(heap);

function zeroPages(h: Uint8Array): number {
  let n = 0;
  for (let s = 0; s < h.length; s += 4096) if (h.subarray(s, s + 4096).every((b) => b === 0)) n++;
  return n;
}

describe.each(availableCodecs())('a container with codec %s', (codec) => {
  const bytes = encodeSnapshot(heap, meta, { codec });

  it('round-trips heap and metadata', () => {
    const out = decodeSnapshot(bytes);
    expect(out.meta).toEqual(meta);
    expect(sameBytes(out.heap, heap)).toBe(true);
  });

  it('reports page statistics and sizes without decoding', () => {
    const info = inspectSnapshot(bytes);
    expect(info.codec).toBe(codec);
    expect(info.delta).toBe(false);
    expect(info.heapBytes).toBe(heap.length);
    expect(info.fileBytes).toBe(bytes.length);
    expect(info.pages.total).toBe(Math.ceil(heap.length / 4096));
    expect(info.pages.zero).toBe(zeroPages(heap));
    expect(info.pages.zero).toBeGreaterThan(info.pages.total / 4);
    expect(info.pages.literal + info.pages.zero).toBe(info.pages.total);
    expect(info.ratios.fileToHeap).toBeCloseTo(bytes.length / heap.length, 9);
    expect(info.meta).toEqual(meta);
  });

  it('decodes a delta against its reference, and only against it', () => {
    const dedicated = derivedHeap(heap, 5);
    const delta = encodeSnapshot(dedicated, metaFor(dedicated), { codec, reference: heap });
    const full = encodeSnapshot(dedicated, metaFor(dedicated), { codec });
    expect(delta.length).toBeLessThan(full.length / 10);
    expect(inspectSnapshot(delta).pages.reference).toBeGreaterThan(0);
    expect(sameBytes(decodeSnapshot(delta, { reference: heap }).heap, dedicated)).toBe(true);
    expect(
      sameBytes(decodeSnapshot(delta, { reference: snapshotReference(heap) }).heap, dedicated),
    ).toBe(true);
    expect(codeOf(() => decodeSnapshot(delta))).toBe('ERR_SNAPSHOT_REFERENCE');
    expect(codeOf(() => decodeSnapshot(delta, { reference: dedicated }))).toBe(
      'ERR_SNAPSHOT_REFERENCE',
    );
    expect(codeOf(() => decodeSnapshot(delta, { reference: heap.subarray(4096) }))).toBe(
      'ERR_SNAPSHOT_REFERENCE',
    );
    // A reference whose claimed hash is right but whose bytes are not is caught by the heap hash.
    const liar = { heap: heap.map((b) => b ^ 0xff), sha256: snapshotReference(heap).sha256 };
    expect(codeOf(() => decodeSnapshot(delta, { reference: liar }))).toBe('ERR_SNAPSHOT_REFERENCE');
  });
});

describe('the page table a decode returns', () => {
  it('lists exactly the zero, literal and reference bytes of the heap, in order', () => {
    const base = new Uint8Array(4096 * 8).fill(1);
    const next = base.slice();
    next.fill(0, 4096, 4096 * 3); // pages 1-2 zero
    next[4096 * 5 + 7] = 9; // page 5 differs from the reference
    const bytes = encodeSnapshot(next, metaFor(next), { reference: base });
    expect(decodeSnapshot(bytes, { reference: base }).pages).toEqual([
      { kind: 'reference', start: 0, end: 4096 },
      { kind: 'zero', start: 4096, end: 4096 * 3 },
      { kind: 'reference', start: 4096 * 3, end: 4096 * 5 },
      { kind: 'literal', start: 4096 * 5, end: 4096 * 6 },
      { kind: 'reference', start: 4096 * 6, end: 4096 * 8 },
    ]);
    const odd = heap.subarray(0, 4096 * 2 + 100);
    const spans = decodeSnapshot(encodeSnapshot(odd, metaFor(odd))).pages;
    expect(spans[spans.length - 1]!.end).toBe(odd.length);
  });
});

describe('pages changed in a few words', () => {
  it('are stored as a XOR with the reference, smaller, and decode exactly (also in place)', () => {
    const base = syntheticHeap(4096 * 64, 5);
    const next = base.slice();
    for (let p = 0; p < 64; p += 2) next[p * 4096 + 100] = (next[p * 4096 + 100]! + 1) & 0xff;
    const xorred = encodeSnapshot(next, metaFor(next), { reference: base, codec: 'gzip' });
    const info = inspectSnapshot(xorred);
    expect(info.pages.literal).toBe(0);
    expect(info.pages.xor).toBeGreaterThan(16);
    expect(info.formatVersion).toBe(3);
    const plain = encodeSnapshot(next, metaFor(next), { codec: 'gzip' });
    expect(xorred.length).toBeLessThan(plain.length / 10);
    expect(sameBytes(decodeSnapshot(xorred, { reference: base }).heap, next)).toBe(true);
    const inPlace = base.slice();
    decodeSnapshot(xorred, { reference: snapshotReference(inPlace), into: inPlace });
    expect(sameBytes(inPlace, next)).toBe(true);
    // Without XOR pages the file stays format 2, which older readers take.
    expect(inspectSnapshot(encodeSnapshot(base, metaFor(base))).formatVersion).toBe(2);
  });
});

describe('decoding into caller memory', () => {
  const bytes = encodeSnapshot(heap, meta);

  it('writes a codec-none heap straight into the target, leaving bytes past it alone', () => {
    const target = new Uint8Array(heap.length + 100).fill(7);
    const out = decodeSnapshot(bytes, { into: target });
    expect(out.heap.buffer).toBe(target.buffer);
    expect(sameBytes(target.subarray(0, heap.length), heap)).toBe(true);
    expect(target.subarray(heap.length).every((b) => b === 7)).toBe(true);
  });

  it('skips zero pages only when told the target is zeroed', () => {
    const dirty = () => new Uint8Array(heap.length).fill(0xee);
    expect(sameBytes(decodeSnapshot(bytes, { into: dirty() }).heap, heap)).toBe(true);
    const skipped = decodeSnapshot(bytes, { into: dirty(), intoIsZeroed: true, verify: 'file' });
    expect(sameBytes(skipped.heap, heap)).toBe(false); // proves zero pages were not written
    expect(codeOf(() => decodeSnapshot(bytes, { into: dirty(), intoIsZeroed: true }))).toBe(
      'ERR_SNAPSHOT_CORRUPT',
    );
    const fresh = new Uint8Array(heap.length);
    expect(sameBytes(decodeSnapshot(bytes, { into: fresh, intoIsZeroed: true }).heap, heap)).toBe(
      true,
    );
  });

  it('grows a WebAssembly.Memory that is too small, and accepts an ArrayBuffer', () => {
    const memory = wasmMemory(1, 100);
    const out = decodeSnapshot(bytes, { into: memory, intoIsZeroed: true });
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(heap.length);
    expect(out.heap.buffer).toBe(memory.buffer);
    expect(sameBytes(out.heap, heap)).toBe(true);
    const small = wasmMemory(1, 2);
    expect(codeOf(() => decodeSnapshot(bytes, { into: small }))).toBe('ERR_SNAPSHOT_TOO_LARGE');
    const ab = new ArrayBuffer(heap.length);
    expect(sameBytes(decodeSnapshot(bytes, { into: ab }).heap, heap)).toBe(true);
    expect(codeOf(() => decodeSnapshot(bytes, { into: new Uint8Array(10) }))).toBe(
      'ERR_SNAPSHOT_TOO_LARGE',
    );
  });

  it('decodes a delta in place over its own reference', () => {
    const dedicated = derivedHeap(heap, 5);
    const delta = encodeSnapshot(dedicated, metaFor(dedicated), { reference: heap });
    const memory = heap.slice();
    const out = decodeSnapshot(delta, { reference: memory, into: memory });
    expect(sameBytes(out.heap, dedicated)).toBe(true);
  });
});

describe('encodeSnapshot', () => {
  it('round-trips an empty heap and a heap that ends inside a page', () => {
    for (const h of [new Uint8Array(0), heap.subarray(0, 5000)]) {
      for (const codec of availableCodecs()) {
        expect(sameBytes(decodeSnapshot(encodeSnapshot(h, metaFor(h), { codec })).heap, h)).toBe(
          true,
        );
      }
    }
  });

  it('refuses metadata that does not describe the heap', () => {
    expect(codeOf(() => encodeSnapshot(heap, { ...meta, heapSize: 1 }))).toBe('ERR_SNAPSHOT_META');
    const bad = { ...meta, kind: 'other' } as unknown as typeof meta;
    expect(() => encodeSnapshot(heap, bad)).toThrow(/kind/);
  });

  it('refuses unknown codecs and a level for codec none', () => {
    const unknown = 'lz4' as unknown as 'none';
    expect(codeOf(() => encodeSnapshot(heap, meta, { codec: unknown }))).toBe('ERR_SNAPSHOT_CODEC');
    expect(codeOf(() => encodeSnapshot(heap, meta, { level: 3 }))).toBe('ERR_SNAPSHOT_CODEC');
  });
});

describe('bad input', () => {
  const bytes = encodeSnapshot(heap, meta, { codec: 'gzip' });

  it('names what is wrong with a SnapshotError code', () => {
    const view = () => {
      const b = bytes.slice();
      return { b, v: new DataView(b.buffer) };
    };
    const huge = view();
    huge.v.setBigUint64(16, 100n * 1024n * 1024n * 1024n, true);
    expect(codeOf(() => decodeSnapshot(huge.b))).toBe('ERR_SNAPSHOT_TOO_LARGE');
    expect(codeOf(() => inspectSnapshot(huge.b))).toBe('ERR_SNAPSHOT_TOO_LARGE');
    const version = view();
    version.v.setUint32(8, 4, true);
    expect(codeOf(() => decodeSnapshot(version.b))).toBe('ERR_SNAPSHOT_VERSION');
    const flipped = view();
    flipped.b[bytes.length - 100]! ^= 1;
    expect(codeOf(() => decodeSnapshot(flipped.b))).toBe('ERR_SNAPSHOT_CORRUPT');
    expect(codeOf(() => decodeSnapshot(bytes.subarray(0, 1000)))).toBe('ERR_SNAPSHOT_TRUNCATED');
    expect(codeOf(() => decodeSnapshot(bytes.subarray(0, 5)))).toBe('ERR_SNAPSHOT_TRUNCATED');
    expect(codeOf(() => decodeSnapshot(new Uint8Array(64)))).toBe('ERR_SNAPSHOT_MAGIC');
    expect(codeOf(() => decodeSnapshot(bytes, { maxHeapBytes: 4096 }))).toBe(
      'ERR_SNAPSHOT_TOO_LARGE',
    );
  });

  it('with verify none, still checks the directory; crc32 also the data section', () => {
    const plain = encodeSnapshot(heap, meta);
    const data = plain.slice();
    data[plain.length - 100]! ^= 1;
    expect(sameBytes(decodeSnapshot(data, { verify: 'none' }).heap, heap)).toBe(false);
    expect(codeOf(() => decodeSnapshot(data, { verify: 'file' }))).toBe('ERR_SNAPSHOT_CORRUPT');
    expect(codeOf(() => decodeSnapshot(data, { verify: 'crc32' }))).toBe('ERR_SNAPSHOT_CORRUPT');
    expect(sameBytes(decodeSnapshot(plain, { verify: 'crc32' }).heap, heap)).toBe(true);
    const dir = plain.slice();
    dir[170]! ^= 4;
    expect(codeOf(() => decodeSnapshot(dir, { verify: 'none' }))).toBe('ERR_SNAPSHOT_CORRUPT');
  });

  it('catches a corrupt directory in inspect, which does not hash the data section', () => {
    const b = bytes.slice();
    b[170]! ^= 4; // inside the metadata JSON
    expect(codeOf(() => inspectSnapshot(b))).toBe('ERR_SNAPSHOT_CORRUPT');
  });
});
