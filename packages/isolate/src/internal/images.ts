import { decodeSnapshot, inspectSnapshot, type SnapshotMeta } from '@pyworkers/snapshot';
import { IsolateError } from '../errors.js';
import { PYODIDE_VERSION } from '../version.js';
import { pyodideBuildId } from '../worker/pyodide-internals.js';
import { nonZeroRuns } from './heap-runs.js';
import type { HeapImage } from './protocol.js';

/** A decoded snapshot ready to restore in any isolate of this process. */
export interface LoadedImage {
  image: HeapImage;
  meta: SnapshotMeta;
}

/**
 * Decodes an encoded snapshot straight into shared memory (verifying its checksums once), checks
 * it was made by this Pyodide build, and finds its non-zero page runs.
 */
export function loadImage(bytes: Uint8Array, source: string): LoadedImage {
  let decoded: ReturnType<typeof decodeSnapshot>;
  try {
    const { heapBytes } = inspectSnapshot(bytes);
    const into = new Uint8Array(new SharedArrayBuffer(heapBytes));
    // A fresh SharedArrayBuffer is zeroed: zero pages are skipped. The file checksum already
    // proves every stored byte, so the decoded heap is not hashed a second time.
    decoded = decodeSnapshot(bytes, { into, intoIsZeroed: true, verify: 'file' });
  } catch (cause) {
    throw new IsolateError(
      'ERR_BUNDLE_INVALID',
      `${source}: the snapshot is unreadable (${(cause as Error).message}); rebuild it`,
      { cause, userError: true },
    );
  }
  const { meta, heap } = decoded;
  if (meta.pyodideVersion !== PYODIDE_VERSION || meta.pyodideBuildId !== pyodideBuildId()) {
    throw new IsolateError(
      'ERR_BUNDLE_VERSION',
      `${source}: the snapshot was made by Pyodide ${meta.pyodideVersion} (build ${meta.pyodideBuildId.slice(0, 12)}), ` +
        `this runtime has ${PYODIDE_VERSION} (build ${pyodideBuildId().slice(0, 12)}); rebuild it with \`pyworkers build\``,
      { userError: true },
    );
  }
  const monotonicMs = typeof meta.app.monotonicMs === 'number' ? meta.app.monotonicMs : 0;
  return {
    image: { heap, jsRefs: meta.jsRefs, runs: nonZeroRuns(heap), monotonicMs },
    meta,
  };
}
