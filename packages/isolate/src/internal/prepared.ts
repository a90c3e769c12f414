import { inspectSnapshot } from '@pyworkers/snapshot';
import { type BaselineOptions, loadBaseline } from '../baseline.js';
import type { Bundle } from '../bundle.js';
import { IsolateError } from '../errors.js';
import type { WorkerLimitOverrides } from '../limits.js';
import { PYODIDE_VERSION } from '../version.js';
import { loadImage } from './images.js';
import { containerKey, takeKeptHeap } from './kept-heaps.js';
import { packMountSet, sdkMountSet } from './mounts.js';
import { differingBlocks, differingRuns } from './page-diff.js';
import type { HeapImage, MountSet } from './protocol.js';
import { release } from './release.js';

/** A bundle made ready for isolates of this process: shared memory, decoded once. */
export interface PreparedBundle {
  name: string;
  mainModule: string;
  vars: Record<string, string>;
  /** `[name, type]` of each binding in the manifest. */
  bindings: [string, string][];
  /** The worker's own limits from its manifest (override the launcher's). */
  limits: WorkerLimitOverrides;
  files: MountSet;
  sdkFiles: MountSet;
  /** The dedicated snapshot's heap, or none (the bundle was built without a snapshot). */
  image: HeapImage | undefined;
}

const prepared = new WeakMap<Bundle, Promise<PreparedBundle>>();
/**
 * The last bundle prepared for each worker name, by content: a router reads a bundle file again
 * for each cold start (it keeps no bundle), and without this every read decoded and hashed the
 * snapshot again (~30-60 ms on the request path of in-process hosts, `pyworkers dev` among them).
 */
const latest = new Map<string, { key: string; prepared: Promise<PreparedBundle> }>();

/** What identifies a decoded bundle's content: its manifest (file hashes) and snapshot checksum. */
function contentKey(bundle: Bundle, baseline: BaselineOptions): string | undefined {
  const { manifest, snapshot } = bundle;
  // Only a decoded bundle's manifest lists its files with their hashes.
  if (!Array.isArray(manifest.files) || manifest.files.length !== bundle.files.size)
    return undefined;
  // A snapshot container ends with the SHA-256 of everything before it.
  const tail = snapshot ? containerKey(snapshot) : '-';
  return `${baseline.cacheDir ?? ''}\0${tail}\0${JSON.stringify(manifest)}`;
}

async function decodeImage(
  bundle: Bundle,
  baseline: BaselineOptions,
): Promise<HeapImage | undefined> {
  const bytes = bundle.snapshot;
  if (!bytes) return undefined;
  const source = `bundle ${bundle.manifest.name}`;
  let wanted: string | null = null;
  let heapBytes = 0;
  try {
    ({ referenceSha256: wanted, heapBytes } = inspectSnapshot(bytes));
  } catch {
    // loadImage reports the unreadable snapshot.
  }
  if (wanted === null) return loadImage(bytes, source).image;
  // A delta against the baseline this host's parked isolates boot from (the build's baseline).
  const base = await loadBaseline(baseline);
  const reference = base.reference();
  const have = base.id();
  if (have !== wanted) {
    throw new IsolateError(
      'ERR_BUNDLE_BASELINE',
      `${source}: its snapshot is a delta against baseline ${wanted.slice(0, 12)}, but this host's baseline is ${have.slice(0, 12)}`,
      { userError: true },
    );
  }
  // This process encoded it a moment ago (`pyworkers dev`): its heap, not decoded again.
  const kept = takeKeptHeap(bytes);
  if (kept && kept.heap.length >= base.image.heap.length) {
    const differ = differingRuns(kept.heap, base.image.heap);
    return {
      heap: base.image.heap,
      runs: base.image.runs,
      jsRefs: kept.jsRefs,
      monotonicMs: kept.monotonicMs,
      base: { id: have, differ },
      patch: patchOver(kept.heap, base.image.heap, differ),
    };
  }
  // Kept as the blocks where it differs from the baseline, over the baseline's heap: the decoded
  // heap is only read here, then freed at once (a heap at least the baseline's size: a top level
  // never shrinks it).
  const asPatch = heapBytes >= base.image.heap.length;
  const image = loadImage(bytes, source, reference, { shared: !asPatch }).image;
  // Once per bundle (~5 ms): which pages a parked isolate of this baseline must be written.
  const differ = differingRuns(image.heap, base.image.heap);
  image.base = { id: have, differ };
  if (!asPatch) return image;
  const patch = patchOver(image.heap, base.image.heap, differ);
  release(image.heap);
  return { ...image, heap: base.image.heap, runs: base.image.runs, patch };
}

/** What `heap` holds where it differs from `base` inside the pages `differ`, by 64-byte block. */
function patchOver(
  heap: Uint8Array,
  base: Uint8Array,
  differ: number[],
): NonNullable<HeapImage['patch']> {
  const list = differingBlocks(heap, base, differ);
  const runs = new Int32Array(new SharedArrayBuffer(list.length * 4));
  runs.set(list);
  return { runs, bytes: gather(heap, list), heapBytes: heap.length };
}

/** The bytes of `runs` [start, end, ...] of `heap`, one after another, in shared memory. */
function gather(heap: Uint8Array, runs: number[]): Uint8Array {
  let size = 0;
  for (let i = 0; i + 1 < runs.length; i += 2) size += runs[i + 1]! - runs[i]!;
  const out = new Uint8Array(new SharedArrayBuffer(size));
  let at = 0;
  for (let i = 0; i + 1 < runs.length; i += 2) {
    out.set(heap.subarray(runs[i]!, runs[i + 1]!), at);
    at += runs[i + 1]! - runs[i]!;
  }
  return out;
}

/**
 * Decodes a bundle's snapshot (checksums verified once, a delta against this host's baseline)
 * and packs its files into shared memory, once per bundle object: every cold start after that
 * copies nothing but the heap itself.
 */
export function prepareBundle(
  bundle: Bundle,
  baseline: BaselineOptions = {},
): Promise<PreparedBundle> {
  const hit = prepared.get(bundle);
  if (hit) return hit;
  const key = contentKey(bundle, baseline);
  const same = latest.get(bundle.manifest.name);
  if (key && same?.key === key) {
    prepared.set(bundle, same.prepared);
    return same.prepared;
  }
  const { manifest } = bundle;
  const out = (async (): Promise<PreparedBundle> => {
    if (manifest.pyodideVersion !== PYODIDE_VERSION) {
      throw new IsolateError(
        'ERR_BUNDLE_VERSION',
        `bundle ${manifest.name} was built for Pyodide ${manifest.pyodideVersion}, this runtime runs ${PYODIDE_VERSION}`,
        { userError: true },
      );
    }
    return {
      name: manifest.name,
      mainModule: manifest.mainModule,
      vars: manifest.vars,
      bindings: (manifest.bindings ?? []).map((b) => [b.name, b.type]),
      limits: manifest.limits ?? {},
      files: packMountSet(bundle.files),
      sdkFiles: sdkMountSet(),
      image: await decodeImage(bundle, baseline),
    };
  })();
  prepared.set(bundle, out);
  if (key) latest.set(manifest.name, { key, prepared: out });
  // A failure is not kept: the next start tries again (and reports the same error).
  out.catch(() => {
    prepared.delete(bundle);
    if (key && latest.get(manifest.name)?.prepared === out) latest.delete(manifest.name);
  });
  return out;
}
