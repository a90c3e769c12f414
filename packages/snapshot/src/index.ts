// Container
export {
  type DecodedSnapshot,
  type DecodeOptions,
  decodeSnapshot,
  type EncodeOptions,
  encodeSnapshot,
  inspectSnapshot,
  MAX_HEAP_BYTES,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotInfo,
} from './container.js';
// Errors
export { SnapshotError, type SnapshotErrorCode } from './errors.js';
// Metadata
export { parseSnapshotMeta, type SnapshotMeta, snapshotMetaSchema } from './meta.js';
// Pyodide's own byte format
export {
  fromPyodideSnapshot,
  type PyodideSnapshotParts,
  toPyodideSnapshot,
} from './pyodide-format.js';
