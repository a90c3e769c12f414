import { describe, expect, it } from 'vitest';
import { codeOf, metaFor, sameBytes, syntheticHeap } from '../test/fixtures.js';
import { decodeSnapshot } from './decode.js';
import { encodeSnapshot } from './encode.js';
import {
  allocatePyodideSnapshot,
  fromPyodideSnapshot,
  toPyodideSnapshot,
} from './pyodide-format.js';

const heap = syntheticHeap(256 * 1024, 3);
const buildId = '990c3b51a9722d62434de2bbc9643732658d488c1b6d467f22c1b6beba80d497';
const jsRefs = { hiwireKeys: [null, { path: ['Array'] }], immortalKeys: ['x'] };

describe("Pyodide's snapshot byte format", () => {
  it('round-trips heap, build id and JS references', () => {
    const bytes = toPyodideSnapshot(heap, { buildId, jsRefs });
    // The layout loadPyodide reads: magic, heap offset (16-aligned), JSON length, build id.
    const words = new Uint32Array(bytes.buffer, 0, 12);
    expect(words[0]).toBe(0x706e7300);
    expect(words[1]! % 16).toBe(0);
    const parts = fromPyodideSnapshot(bytes);
    expect(parts.buildId).toBe(buildId);
    expect(parts.jsRefs).toEqual(jsRefs);
    expect(sameBytes(parts.heap, heap)).toBe(true);
    expect(parts.meta).toEqual({
      pyodideBuildId: buildId,
      jsRefs,
      heapSize: heap.length,
      pageSize: 65536,
    });
  });

  it('accepts a full SnapshotMeta and unaligned input', () => {
    const meta = metaFor(heap, { pyodideBuildId: buildId, jsRefs });
    const bytes = toPyodideSnapshot(heap, meta);
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    expect(fromPyodideSnapshot(unaligned).buildId).toBe(buildId);
  });

  it('decodes our container straight into a buffer loadPyodide accepts', () => {
    const meta = metaFor(heap, { pyodideBuildId: buildId, jsRefs });
    const file = encodeSnapshot(heap, meta, { codec: 'gzip' });
    const target = allocatePyodideSnapshot(meta);
    decodeSnapshot(file, { into: target.heap, intoIsZeroed: true });
    expect(sameBytes(target.bytes, toPyodideSnapshot(heap, meta))).toBe(true);
  });

  it('refuses foreign, truncated and inconsistent bytes', () => {
    const bytes = toPyodideSnapshot(heap, { buildId, jsRefs });
    expect(codeOf(() => fromPyodideSnapshot(new Uint8Array(100)))).toBe('ERR_SNAPSHOT_MAGIC');
    expect(codeOf(() => fromPyodideSnapshot(bytes.subarray(0, 40)))).toBe('ERR_SNAPSHOT_TRUNCATED');
    expect(codeOf(() => fromPyodideSnapshot(bytes.subarray(0, 60)))).toBe('ERR_SNAPSHOT_TRUNCATED');
    const overlap = bytes.slice();
    new DataView(overlap.buffer).setUint32(8, 1 << 20, true);
    expect(codeOf(() => fromPyodideSnapshot(overlap))).toBe('ERR_SNAPSHOT_CORRUPT');
    const badJson = bytes.slice();
    badJson[49] = 0x7b;
    expect(codeOf(() => fromPyodideSnapshot(badJson))).toBe('ERR_SNAPSHOT_CORRUPT');
    expect(codeOf(() => toPyodideSnapshot(heap, { buildId: 'nope', jsRefs }))).toBe(
      'ERR_SNAPSHOT_META',
    );
  });
});
