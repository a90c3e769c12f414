import {
  decodeSnapshot,
  inspectSnapshot,
  type PageSpan,
  type SnapshotMeta,
  type SnapshotReference,
  snapshotReference,
} from '@pyworkers/snapshot';
import { IsolateError } from '../errors.js';
import { PYODIDE_VERSION, pyodideBuildId } from '../version.js';
import type { HeapImage } from './protocol.js';

/** A decoded snapshot ready to restore in any isolate of this process. */
export interface LoadedImage {
  image: HeapImage;
  meta: SnapshotMeta;
  /** The heap as a delta reference (its SHA-256 computed on first use, then kept). */
  reference(): SnapshotReference;
  /** That SHA-256 in hex: the id a dedicated image made on this heap names as its base. */
  id(): string;
}

/** Byte ranges [start, end, ...] of the spans that are not zero, adjacent ones merged. */
export function nonZeroRuns(pages: PageSpan[]): number[] {
  const runs: number[] = [];
  for (const p of pages) {
    if (p.kind === 'zero') continue;
    if (runs.length > 0 && runs[runs.length - 1] === p.start) runs[runs.length - 1] = p.end;
    else runs.push(p.start, p.end);
  }
  return runs;
}

/**
 * Decodes an encoded snapshot straight into shared memory (verifying its checksums once), checks
 * it was made by this Pyodide build, and takes its non-zero runs from the page table. A delta
 * needs the `reference` it was encoded against. `shared: false` decodes into a plain
 * ArrayBuffer instead, for a heap only this thread reads and then frees (`release`).
 */
export function loadImage(
  bytes: Uint8Array,
  source: string,
  reference?: SnapshotReference,
  { shared = true }: { shared?: boolean } = {},
): LoadedImage {
  let decoded: ReturnType<typeof decodeSnapshot>;
  try {
    const { heapBytes } = inspectSnapshot(bytes);
    const into = shared
      ? new Uint8Array(new SharedArrayBuffer(heapBytes))
      : new Uint8Array(heapBytes);
    // A fresh buffer is zeroed: zero pages are skipped. The file checksum already
    // proves every stored byte, and a reference is checked by its SHA-256, so the decoded heap
    // is not hashed a second time.
    decoded = decodeSnapshot(bytes, {
      into,
      intoIsZeroed: true,
      verify: 'file',
      ...(reference ? { reference } : {}),
    });
  } catch (cause) {
    throw new IsolateError(
      'ERR_BUNDLE_INVALID',
      `${source}: the snapshot is unreadable (${(cause as Error).message}); rebuild it`,
      { cause, userError: true },
    );
  }
  const { meta, heap, pages } = decoded;
  if (meta.pyodideVersion !== PYODIDE_VERSION || meta.pyodideBuildId !== pyodideBuildId()) {
    throw new IsolateError(
      'ERR_BUNDLE_VERSION',
      `${source}: the snapshot was made by Pyodide ${meta.pyodideVersion} (build ${meta.pyodideBuildId.slice(0, 12)}), ` +
        `this runtime has ${PYODIDE_VERSION} (build ${pyodideBuildId().slice(0, 12)}); rebuild it with \`pyworkers build\``,
      { userError: true },
    );
  }
  const monotonicMs = typeof meta.app.monotonicMs === 'number' ? meta.app.monotonicMs : 0;
  let ref: SnapshotReference | undefined;
  return {
    image: { heap, jsRefs: meta.jsRefs, runs: nonZeroRuns(pages), monotonicMs },
    meta,
    reference: () => {
      ref ??= snapshotReference(heap);
      return ref;
    },
    id() {
      return Buffer.from(this.reference().sha256).toString('hex');
    },
  };
}
