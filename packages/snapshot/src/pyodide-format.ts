import { SnapshotError } from './errors.js';

/** Magic number at the start of a snapshot made by Pyodide's `makeMemorySnapshot()`. */
const PYODIDE_MAGIC = 0x706e7300;
/** Pyodide writes its JSON config right after a 48-byte header. */
const PYODIDE_HEADER_BYTES = 48;

/** What Pyodide's own snapshot byte format carries besides the heap. */
export interface PyodideSnapshotParts {
  heap: Uint8Array;
  /** The build id Pyodide checks on restore (hex). */
  buildId: string;
  /** Pyodide's JS-reference table (`hiwireKeys`, `immortalKeys`). */
  jsRefs: Record<string, unknown>;
}

function hex(words: Uint32Array): string {
  let s = '';
  for (const w of words) s += w.toString(16).padStart(8, '0');
  return s;
}

/**
 * Splits the bytes of Pyodide's `makeMemorySnapshot()` into heap, build id and JS references.
 * The heap is a view into `bytes`, not a copy.
 */
export function fromPyodideSnapshot(bytes: Uint8Array): PyodideSnapshotParts {
  if (bytes.length < PYODIDE_HEADER_BYTES || bytes.byteOffset % 4 !== 0) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      'Pyodide snapshot is shorter than its header',
    );
  }
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, PYODIDE_HEADER_BYTES / 4);
  if (words[0] !== PYODIDE_MAGIC) {
    throw new SnapshotError('ERR_SNAPSHOT_MAGIC', 'not a Pyodide memory snapshot (bad magic)');
  }
  const heapOffset = words[1]!;
  const jsonLength = words[2]!;
  if (heapOffset > bytes.length || PYODIDE_HEADER_BYTES + jsonLength > heapOffset) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      'Pyodide snapshot header points past its end',
    );
  }
  let jsRefs: Record<string, unknown>;
  try {
    jsRefs = JSON.parse(
      new TextDecoder().decode(
        bytes.subarray(PYODIDE_HEADER_BYTES, PYODIDE_HEADER_BYTES + jsonLength),
      ),
    );
  } catch (cause) {
    throw new SnapshotError('ERR_SNAPSHOT_CORRUPT', 'Pyodide snapshot config is not JSON', {
      cause,
    });
  }
  return { heap: bytes.subarray(heapOffset), buildId: hex(words.subarray(4, 12)), jsRefs };
}

/** Rebuilds the byte format `loadPyodide({ _loadSnapshot })` accepts. */
export function toPyodideSnapshot(
  heap: Uint8Array,
  parts: { buildId: string; jsRefs: Record<string, unknown> },
): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(parts.jsRefs));
  const heapOffset = Math.ceil((PYODIDE_HEADER_BYTES + json.length) / 16) * 16;
  const out = new Uint8Array(heapOffset + heap.length);
  const words = new Uint32Array(out.buffer, 0, PYODIDE_HEADER_BYTES / 4);
  words[0] = PYODIDE_MAGIC;
  words[1] = heapOffset;
  words[2] = json.length;
  if (!/^[0-9a-f]{64}$/.test(parts.buildId)) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_META',
      `Pyodide build id must be 64 hex digits, got "${parts.buildId}"`,
    );
  }
  for (let i = 0; i < 8; i++)
    words[4 + i] = Number.parseInt(parts.buildId.slice(i * 8, i * 8 + 8), 16);
  out.set(json, PYODIDE_HEADER_BYTES);
  out.set(heap, heapOffset);
  return out;
}
