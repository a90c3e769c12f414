// Heaps a build of this process just encoded, kept for the process's own next load of that
// snapshot (`pyworkers dev` serves what it builds): the load then skips decoding the container
// it just wrote (~25-35 ms per rebuild for the hello template). Keyed by the container's
// trailing SHA-256 (of everything before it), so only the very snapshot that heap was encoded
// into finds it. Taken once; at most a few are held.
import type { HeapImage } from './protocol.js';

/** What a load needs of a heap it did not decode. */
export interface KeptHeap {
  heap: Uint8Array;
  jsRefs: HeapImage['jsRefs'];
  monotonicMs: number;
}

const MAX_KEPT = 2;
const kept = new Map<string, KeptHeap>();

/** The key of an encoded snapshot container: its trailing SHA-256, in hex. */
export function containerKey(snapshot: Uint8Array): string {
  return Buffer.from(snapshot.subarray(snapshot.length - 32)).toString('hex');
}

/** Keeps `heap` (encoded into `snapshot`) for the next {@link takeKeptHeap} of that snapshot. */
export function keepHeap(snapshot: Uint8Array, heap: KeptHeap): void {
  kept.set(containerKey(snapshot), heap);
  while (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value as string);
}

/** The heap kept for `snapshot`, if any (then no longer kept). */
export function takeKeptHeap(snapshot: Uint8Array): KeptHeap | undefined {
  const key = containerKey(snapshot);
  const heap = kept.get(key);
  kept.delete(key);
  return heap;
}
