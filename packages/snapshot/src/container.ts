import { createHash } from 'node:crypto';
import { SnapshotError } from './errors.js';
import { parseSnapshotMeta, type SnapshotMeta } from './meta.js';

const MAGIC = new TextEncoder().encode('PYWSNAP\0');
/** Version of the container format this build writes and reads. */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Largest heap a container may claim: wasm32 cannot address more. */
export const MAX_HEAP_BYTES = 4 * 1024 ** 3;
const MAX_META_BYTES = 16 * 1024 ** 2;
const HEADER_BYTES = MAGIC.length + 4 + 4 + 8 + 32;
const TRAILER_BYTES = 32;

/** Options of {@link encodeSnapshot}. */
export interface EncodeOptions {
  /** Reserved for the delta encoding: the heap of the snapshot this one is encoded against. */
  reference?: Uint8Array;
}

/** Options of {@link decodeSnapshot}. */
export interface DecodeOptions {
  /** Target memory to write the heap into (e.g. a `WebAssembly.Memory` buffer). */
  into?: Uint8Array;
  reference?: Uint8Array;
}

/** A decoded snapshot. */
export interface DecodedSnapshot {
  meta: SnapshotMeta;
  heap: Uint8Array;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Encodes a heap and its metadata into a snapshot container.
 * @example const bytes = encodeSnapshot(heap, meta);
 */
export function encodeSnapshot(
  heap: Uint8Array,
  meta: SnapshotMeta,
  _options: EncodeOptions = {},
): Uint8Array {
  const checked = parseSnapshotMeta(meta);
  if (heap.length > MAX_HEAP_BYTES) {
    throw new SnapshotError('ERR_SNAPSHOT_TOO_LARGE', `heap of ${heap.length} bytes is over 4 GiB`);
  }
  const metaBytes = new TextEncoder().encode(JSON.stringify(checked));
  const out = new Uint8Array(HEADER_BYTES + metaBytes.length + heap.length + TRAILER_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let o = MAGIC.length;
  view.setUint32(o, SNAPSHOT_FORMAT_VERSION, true);
  view.setUint32(o + 4, metaBytes.length, true);
  view.setBigUint64(o + 8, BigInt(heap.length), true);
  out.set(sha256(heap), o + 16);
  o = HEADER_BYTES;
  out.set(metaBytes, o);
  out.set(heap, o + metaBytes.length);
  const body = out.subarray(0, out.length - TRAILER_BYTES);
  out.set(sha256(body), body.length);
  return out;
}

interface Header {
  version: number;
  metaLength: number;
  heapLength: number;
  heapHash: Uint8Array;
}

function readHeader(bytes: Uint8Array): Header {
  if (bytes.length < MAGIC.length || !equalBytes(bytes.subarray(0, MAGIC.length), MAGIC)) {
    throw new SnapshotError('ERR_SNAPSHOT_MAGIC', 'not a pyworkers snapshot (bad magic)');
  }
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      `snapshot is truncated at ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(MAGIC.length, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_VERSION',
      `snapshot format version ${version} is not supported (this build reads ${SNAPSHOT_FORMAT_VERSION}); rebuild the worker`,
    );
  }
  const metaLength = view.getUint32(MAGIC.length + 4, true);
  const heapLength = view.getBigUint64(MAGIC.length + 8, true);
  if (metaLength > MAX_META_BYTES || heapLength > BigInt(MAX_HEAP_BYTES)) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TOO_LARGE',
      'snapshot header claims sizes over the limits',
    );
  }
  const heapHash = bytes.subarray(MAGIC.length + 16, MAGIC.length + 48);
  return { version, metaLength, heapLength: Number(heapLength), heapHash };
}

function readMeta(bytes: Uint8Array, header: Header): SnapshotMeta {
  const raw = bytes.subarray(HEADER_BYTES, HEADER_BYTES + header.metaLength);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (cause) {
    throw new SnapshotError('ERR_SNAPSHOT_CORRUPT', 'snapshot metadata is not valid JSON', {
      cause,
    });
  }
  return parseSnapshotMeta(parsed);
}

/**
 * Decodes a snapshot container, verifying both checksums.
 * @example const { meta, heap } = decodeSnapshot(bytes);
 */
export function decodeSnapshot(bytes: Uint8Array, options: DecodeOptions = {}): DecodedSnapshot {
  const header = readHeader(bytes);
  const expected = HEADER_BYTES + header.metaLength + header.heapLength + TRAILER_BYTES;
  if (bytes.length < expected) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      `snapshot is truncated: ${bytes.length} of ${expected} bytes`,
    );
  }
  const body = bytes.subarray(0, expected - TRAILER_BYTES);
  if (!equalBytes(sha256(body), bytes.subarray(expected - TRAILER_BYTES, expected))) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CORRUPT',
      'snapshot checksum does not match its contents',
    );
  }
  const meta = readMeta(bytes, header);
  const start = HEADER_BYTES + header.metaLength;
  const src = bytes.subarray(start, start + header.heapLength);
  let heap: Uint8Array;
  if (options.into) {
    if (options.into.length < src.length) {
      throw new SnapshotError(
        'ERR_SNAPSHOT_TOO_LARGE',
        `target memory of ${options.into.length} bytes is smaller than the heap (${src.length})`,
      );
    }
    options.into.set(src);
    heap = options.into.subarray(0, src.length);
  } else {
    heap = src.slice();
  }
  return { meta, heap };
}

/** Statistics of a snapshot, read without decoding the heap. */
export interface SnapshotInfo {
  meta: SnapshotMeta;
  formatVersion: number;
  fileBytes: number;
  heapBytes: number;
  codec: 'none';
}

/** Reads a snapshot's metadata and statistics without decoding the heap. */
export function inspectSnapshot(bytes: Uint8Array): SnapshotInfo {
  const header = readHeader(bytes);
  if (bytes.length < HEADER_BYTES + header.metaLength) {
    throw new SnapshotError('ERR_SNAPSHOT_TRUNCATED', 'snapshot is truncated inside its metadata');
  }
  return {
    meta: readMeta(bytes, header),
    formatVersion: header.version,
    fileBytes: bytes.length,
    heapBytes: header.heapLength,
    codec: 'none',
  };
}
