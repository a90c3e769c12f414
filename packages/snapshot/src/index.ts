// Encoding, decoding and inspecting

export {
  type DecodedSnapshot,
  type DecodeOptions,
  type DecodeTarget,
  decodeSnapshot,
  type PageSpan,
  type WasmMemoryLike,
} from './decode.js';
export { type EncodeOptions, encodeSnapshot } from './encode.js';
export { inspectSnapshot, type SnapshotInfo } from './inspect.js';
export { type SnapshotReference, snapshotReference } from './reference.js';

// The container format

export {
  FORMAT_VERSION as SNAPSHOT_FORMAT_VERSION,
  MAX_HEAP_BYTES,
  PAGE_SIZE as SNAPSHOT_PAGE_SIZE,
} from './constants.js';

// Codecs

export {
  availableCodecs,
  DEFAULT_LEVELS,
  isCodecAvailable,
  SNAPSHOT_CODECS,
  type SnapshotCodec,
} from './codecs.js';

// Metadata

export { parseSnapshotMeta, type SnapshotMeta, snapshotMetaSchema } from './meta.js';

// Pyodide's own byte format

export {
  allocatePyodideSnapshot,
  fromPyodideSnapshot,
  type PyodideSnapshotInput,
  type PyodideSnapshotParts,
  toPyodideSnapshot,
} from './pyodide-format.js';

// WebAssembly module data as a reference

export { wasmDataImage } from './wasm-image.js';

// Errors

export { isSnapshotError, SnapshotError, type SnapshotErrorCode } from './errors.js';
