import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, inspectSnapshot } from './container.js';
import { SnapshotError } from './errors.js';
import type { SnapshotMeta } from './meta.js';

const meta: SnapshotMeta = {
  pyodideVersion: '314.0.7',
  pyodideBuildId: 'a'.repeat(64),
  pythonVersion: '3.14.2',
  kind: 'dedicated',
  heapSize: 65536 * 2,
  pageSize: 65536,
  hashSeed: 42,
  importedModules: ['sys'],
  loadedLibraries: [],
  jsRefs: { hiwireKeys: [], immortalKeys: [] },
  app: {},
};

function heap(): Uint8Array {
  const h = new Uint8Array(meta.heapSize);
  for (let i = 0; i < h.length; i += 97) h[i] = i & 0xff;
  return h;
}

describe('snapshot container', () => {
  it('round-trips heap and metadata', () => {
    const bytes = encodeSnapshot(heap(), meta);
    const out = decodeSnapshot(bytes);
    expect(out.meta).toEqual(meta);
    expect(out.heap).toEqual(heap());
    expect(inspectSnapshot(bytes).heapBytes).toBe(meta.heapSize);
  });

  it('decodes straight into a target buffer', () => {
    const target = new Uint8Array(meta.heapSize + 100);
    const out = decodeSnapshot(encodeSnapshot(heap(), meta), { into: target });
    expect(out.heap.buffer).toBe(target.buffer);
    expect(target.subarray(0, meta.heapSize)).toEqual(heap());
  });

  it('refuses corrupt, truncated and foreign bytes with a SnapshotError code', () => {
    const bytes = encodeSnapshot(heap(), meta);
    const flipped = bytes.slice();
    flipped[bytes.length - 100]! ^= 1;
    const codeOf = (b: Uint8Array) => {
      try {
        decodeSnapshot(b);
      } catch (e) {
        expect(e).toBeInstanceOf(SnapshotError);
        return (e as SnapshotError).code;
      }
      return 'decoded';
    };
    expect(codeOf(flipped)).toBe('ERR_SNAPSHOT_CORRUPT');
    expect(codeOf(bytes.subarray(0, 1000))).toBe('ERR_SNAPSHOT_TRUNCATED');
    expect(codeOf(new Uint8Array(64))).toBe('ERR_SNAPSHOT_MAGIC');
  });
});
