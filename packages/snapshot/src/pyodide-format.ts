import { z } from 'zod';
import { SnapshotError } from './errors.js';
import type { SnapshotMeta } from './meta.js';

/** Magic number at the start of a snapshot made by Pyodide's `makeMemorySnapshot()`. */
const PYODIDE_MAGIC = 0x706e7300;
/** Pyodide writes its JSON config right after a 48-byte header; the heap starts 16-aligned. */
const PYODIDE_HEADER_BYTES = 48;
const BUILD_ID = /^[0-9a-f]{64}$/;

const jsRefsSchema = z
  .object({ hiwireKeys: z.array(z.unknown()), immortalKeys: z.array(z.unknown()) })
  .catchall(z.unknown());

/** What Pyodide's own snapshot byte format carries besides the heap. */
export interface PyodideSnapshotParts {
  /** The heap: a view into the input bytes, not a copy. */
  heap: Uint8Array;
  /** The build id Pyodide checks on restore (64 hex digits). */
  buildId: string;
  /** Pyodide's JS-reference table (`hiwireKeys`, `immortalKeys`). */
  jsRefs: Record<string, unknown>;
  /** The metadata fields the Pyodide format determines; merge the rest in before encoding. */
  meta: Pick<SnapshotMeta, 'pyodideBuildId' | 'jsRefs' | 'heapSize' | 'pageSize'>;
}

function truncated(message: string): SnapshotError {
  return new SnapshotError('ERR_SNAPSHOT_TRUNCATED', `Pyodide snapshot ${message}`);
}

/**
 * Splits the bytes of Pyodide's `makeMemorySnapshot()` into heap, build id and JS references.
 * @example
 * const parts = fromPyodideSnapshot(pyodide.makeMemorySnapshot());
 * encodeSnapshot(parts.heap, { ...parts.meta, pyodideVersion, pythonVersion, ... });
 */
export function fromPyodideSnapshot(bytes: Uint8Array): PyodideSnapshotParts {
  if (!(bytes instanceof Uint8Array)) {
    throw new SnapshotError('ERR_SNAPSHOT_MAGIC', 'Pyodide snapshot must be a Uint8Array');
  }
  if (bytes.length < 4) throw truncated(`is truncated at ${bytes.length} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== PYODIDE_MAGIC) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_MAGIC',
      'not a Pyodide memory snapshot (bad magic); expected bytes from pyodide.makeMemorySnapshot()',
    );
  }
  if (bytes.length < PYODIDE_HEADER_BYTES) throw truncated('is shorter than its 48-byte header');
  const heapOffset = v.getUint32(4, true);
  const jsonLength = v.getUint32(8, true);
  if (PYODIDE_HEADER_BYTES + jsonLength > heapOffset) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CORRUPT',
      `Pyodide snapshot header is inconsistent: config of ${jsonLength} bytes overlaps the heap at ${heapOffset}`,
    );
  }
  if (heapOffset > bytes.length) throw truncated(`heap offset ${heapOffset} is past its end`);
  let buildId = '';
  for (let i = 0; i < 8; i++)
    buildId += v
      .getUint32(16 + i * 4, true)
      .toString(16)
      .padStart(8, '0');
  let raw: unknown;
  try {
    raw = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(
        bytes.subarray(PYODIDE_HEADER_BYTES, PYODIDE_HEADER_BYTES + jsonLength),
      ),
    );
  } catch (cause) {
    throw new SnapshotError('ERR_SNAPSHOT_CORRUPT', 'Pyodide snapshot config is not JSON', {
      cause,
    });
  }
  const parsed = jsRefsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CORRUPT',
      'Pyodide snapshot config lacks the hiwireKeys/immortalKeys arrays Pyodide needs on restore',
    );
  }
  const heap = bytes.subarray(heapOffset);
  const jsRefs = parsed.data as Record<string, unknown>;
  return {
    heap,
    buildId,
    jsRefs,
    meta: { pyodideBuildId: buildId, jsRefs, heapSize: heap.length, pageSize: 65536 },
  };
}

/** The parts {@link toPyodideSnapshot} needs: a full {@link SnapshotMeta} also works. */
export type PyodideSnapshotInput =
  | { buildId: string; jsRefs: Record<string, unknown> }
  | Pick<SnapshotMeta, 'pyodideBuildId' | 'jsRefs'>;

/** Byte offset of the heap inside the Pyodide format for these JS references. */
function layout(input: PyodideSnapshotInput): {
  json: Uint8Array;
  heapOffset: number;
  buildId: string;
} {
  const buildId = 'buildId' in input ? input.buildId : input.pyodideBuildId;
  if (!BUILD_ID.test(buildId)) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_META',
      `Pyodide build id must be 64 lowercase hex digits, got "${buildId}"`,
    );
  }
  const json = new TextEncoder().encode(JSON.stringify(input.jsRefs));
  return { json, heapOffset: Math.ceil((PYODIDE_HEADER_BYTES + json.length) / 16) * 16, buildId };
}

/**
 * Allocates the byte format `loadPyodide({ _loadSnapshot })` accepts and returns it with a view
 * of its heap region, so a snapshot can be decoded straight into it (no second 30 MiB copy).
 * @example
 * const { bytes, heap } = allocatePyodideSnapshot(meta);
 * decodeSnapshot(file, { into: heap, intoIsZeroed: true });
 * await loadPyodide({ _loadSnapshot: bytes });
 */
export function allocatePyodideSnapshot(input: PyodideSnapshotInput & { heapSize: number }): {
  bytes: Uint8Array;
  heap: Uint8Array;
} {
  const { json, heapOffset, buildId } = layout(input);
  const bytes = new Uint8Array(heapOffset + input.heapSize);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, PYODIDE_MAGIC, true);
  v.setUint32(4, heapOffset, true);
  v.setUint32(8, json.length, true);
  for (let i = 0; i < 8; i++) {
    v.setUint32(16 + i * 4, Number.parseInt(buildId.slice(i * 8, i * 8 + 8), 16), true);
  }
  bytes.set(json, PYODIDE_HEADER_BYTES);
  return { bytes, heap: bytes.subarray(heapOffset) };
}

/**
 * Rebuilds the byte format `loadPyodide({ _loadSnapshot })` accepts.
 * @example await loadPyodide({ _loadSnapshot: toPyodideSnapshot(heap, meta) });
 */
export function toPyodideSnapshot(heap: Uint8Array, input: PyodideSnapshotInput): Uint8Array {
  const out = allocatePyodideSnapshot({ ...input, heapSize: heap.length });
  out.heap.set(heap);
  return out.bytes;
}
