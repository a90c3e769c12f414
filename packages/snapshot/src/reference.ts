import { SnapshotError } from './errors.js';
import { equalBytes, sha256 } from './internal/format.js';

/**
 * A reference heap with its SHA-256 computed once: pass it to many encodes and decodes of
 * deltas against the same baseline without hashing 30 MiB each time.
 */
export interface SnapshotReference {
  readonly heap: Uint8Array;
  /** SHA-256 of `heap` (32 bytes). */
  readonly sha256: Uint8Array;
}

/**
 * Hashes a baseline heap once so deltas can be encoded and decoded against it.
 * @example const base = snapshotReference(baselineHeap); decodeSnapshot(bytes, { reference: base });
 */
export function snapshotReference(heap: Uint8Array): SnapshotReference {
  return { heap, sha256: sha256(heap) };
}

/** Accepts a bare heap (hashed here) or a {@link SnapshotReference}. */
export function toReference(ref: Uint8Array | SnapshotReference): SnapshotReference {
  if (ref instanceof Uint8Array) return snapshotReference(ref);
  if (!(ref.heap instanceof Uint8Array) || ref.sha256?.length !== 32) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_REFERENCE',
      'reference must be a Uint8Array heap or { heap, sha256 } from snapshotReference()',
    );
  }
  return ref;
}

export function sameReference(a: SnapshotReference, hash: Uint8Array, length: number): boolean {
  return a.heap.length === length && equalBytes(a.sha256, hash);
}
