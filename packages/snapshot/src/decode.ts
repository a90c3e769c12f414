import { assertCodecAvailable, codecFromId, decompress } from './codecs.js';
import { SnapshotError } from './errors.js';
import {
  equalBytes,
  type Header,
  PAGE_SIZE,
  PageKind,
  type PageRun,
  readHeader,
  readRuns,
  sha256,
  verifyDirectory,
  verifyDirectoryAndCrc,
  verifyFile,
} from './internal/format.js';
import { readMetaJson } from './internal/read-meta.js';
import { xorBytes } from './internal/words.js';
import { parseSnapshotMeta, type SnapshotMeta } from './meta.js';
import { type SnapshotReference, sameReference, toReference } from './reference.js';

/** A `WebAssembly.Memory` (typed structurally: Node's types do not declare WebAssembly). */
export interface WasmMemoryLike {
  readonly buffer: ArrayBufferLike;
  grow(deltaPages: number): number;
}

/** Where {@link decodeSnapshot} may write the heap. */
export type DecodeTarget = Uint8Array | ArrayBuffer | SharedArrayBuffer | WasmMemoryLike;

/** Options of {@link decodeSnapshot}. */
export interface DecodeOptions {
  /** The heap the snapshot was encoded against; required for a delta, ignored otherwise. */
  reference?: Uint8Array | SnapshotReference;
  /**
   * Memory to write the heap into, from byte 0, with no intermediate copy when the codec is
   * `none`. A `WebAssembly.Memory` smaller than the heap is grown first. Bytes past the heap are
   * left as they are. On an error the target may hold a partial heap.
   */
  into?: DecodeTarget;
  /** The target is known to be all zero (fresh memory): zero pages are skipped, not written. */
  intoIsZeroed?: boolean;
  /**
   * `full` (default): check the file checksum and the SHA-256 of the decoded heap.
   * `file`: check the file checksum only, which already proves every stored byte and the page
   * table; enough when the reference (if any) is a {@link SnapshotReference} you trust.
   * `crc32`: directory checksum and the data section's CRC-32: catches truncation and damage
   * (not tampering) at a fraction of SHA-256's cost; meant for the restore path reading files
   * this host wrote.
   * `none`: structural checks only (sizes, page table, codec): still no crash and no allocation
   * past the limits, but a flipped data byte goes unnoticed. Only for bytes this process has
   * verified before, e.g. a file kept in memory after a `full` decode.
   */
  verify?: 'full' | 'file' | 'crc32' | 'none';
  /** Refuse heaps larger than this many bytes (default and maximum: 4 GiB). */
  maxHeapBytes?: number;
}

/** Consecutive heap bytes whose pages the page table gives one kind. */
export interface PageSpan {
  /** `zero`: all zero; `literal`: stored in the file; `reference`: equal to the reference's. */
  kind: 'zero' | 'literal' | 'reference';
  /** Byte offsets [start, end) into the heap. */
  start: number;
  end: number;
}

/** A decoded snapshot. `heap` is a view of the target when `into` was given. */
export interface DecodedSnapshot {
  meta: SnapshotMeta;
  heap: Uint8Array;
  /**
   * The page table as byte spans, in heap order: which parts are zero, and (for a delta)
   * which differ from the reference. A restore can copy only what it needs from it, without
   * scanning the heap.
   */
  pages: PageSpan[];
}

// A XOR page differs from the reference and is stored in the file: a literal page to readers.
const KIND_NAMES = ['zero', 'literal', 'reference', 'literal'] as const;

function spansOf(runs: PageRun[], heapLength: number): PageSpan[] {
  const spans: PageSpan[] = [];
  let page = 0;
  for (const r of runs) {
    const start = page * PAGE_SIZE;
    page += r.pages;
    const kind = KIND_NAMES[r.kind]!;
    const last = spans[spans.length - 1];
    const end = Math.min(page * PAGE_SIZE, heapLength);
    if (last && last.kind === kind) last.end = end;
    else spans.push({ kind, start, end });
  }
  return spans;
}

const WASM_PAGE = 65536;

function isMemory(t: DecodeTarget): t is WasmMemoryLike {
  return (
    !(t instanceof Uint8Array) &&
    !(t instanceof ArrayBuffer) &&
    !(typeof SharedArrayBuffer !== 'undefined' && t instanceof SharedArrayBuffer) &&
    typeof (t as WasmMemoryLike).grow === 'function'
  );
}

function targetView(into: DecodeTarget | undefined, heapLength: number): Uint8Array {
  if (into === undefined) return new Uint8Array(heapLength);
  if (isMemory(into)) {
    const have = into.buffer.byteLength;
    if (have < heapLength) {
      try {
        into.grow(Math.ceil((heapLength - have) / WASM_PAGE));
      } catch (cause) {
        throw new SnapshotError(
          'ERR_SNAPSHOT_TOO_LARGE',
          `cannot grow the target memory from ${have} to ${heapLength} bytes (its maximum is too small)`,
          { cause },
        );
      }
    }
    return new Uint8Array(into.buffer, 0, heapLength);
  }
  const view = into instanceof Uint8Array ? into : new Uint8Array(into);
  if (view.length < heapLength) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TOO_LARGE',
      `target memory of ${view.length} bytes is smaller than the heap of ${heapLength}; grow it first`,
    );
  }
  return view.subarray(0, heapLength);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function checkReference(
  header: Header,
  given: Uint8Array | SnapshotReference | undefined,
): SnapshotReference | undefined {
  if (!header.delta) return undefined;
  if (!given) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_REFERENCE',
      `snapshot is a delta against the heap with SHA-256 ${hex(header.referenceHash)}; pass that baseline heap as options.reference`,
    );
  }
  const ref = toReference(given);
  if (!sameReference(ref, header.referenceHash, header.referenceLength)) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_REFERENCE',
      `snapshot is a delta against a ${header.referenceLength}-byte heap with SHA-256 ${hex(header.referenceHash)}, but the reference given has ${ref.heap.length} bytes and SHA-256 ${hex(ref.sha256)}; pass the baseline it was encoded against`,
    );
  }
  return ref;
}

/** Writes every page run into `target`. `data` holds the stored pages back to back. */
function scatter(
  runs: PageRun[],
  target: Uint8Array,
  data: Uint8Array,
  reference: Uint8Array | undefined,
  zeroed: boolean,
): void {
  const heapLength = target.length;
  let page = 0;
  let o = 0;
  for (const r of runs) {
    const start = page * PAGE_SIZE;
    const end = Math.min((page + r.pages) * PAGE_SIZE, heapLength);
    page += r.pages;
    if (r.kind === PageKind.literal) {
      target.set(data.subarray(o, o + end - start), start);
      o += end - start;
    } else if (r.kind === PageKind.xor) {
      xorBytes(target, start, reference!, start, data, o, end - start);
      o += end - start;
    } else if (r.kind === PageKind.reference) {
      // Decoding in place over the reference itself: those pages are already right.
      if (reference!.buffer !== target.buffer || reference!.byteOffset !== target.byteOffset) {
        target.set(reference!.subarray(start, end), start);
      }
    } else if (!zeroed) {
      target.fill(0, start, end);
    }
  }
}

/**
 * Decodes a snapshot container, checking its checksums, and returns metadata and heap.
 * @example
 * const { meta, heap } = decodeSnapshot(bytes);
 * decodeSnapshot(bytes, { into: memory, intoIsZeroed: true, reference: baseline });
 */
export function decodeSnapshot(bytes: Uint8Array, options: DecodeOptions = {}): DecodedSnapshot {
  if (!(bytes instanceof Uint8Array)) {
    throw new SnapshotError('ERR_SNAPSHOT_MAGIC', 'snapshot must be a Uint8Array');
  }
  const header = readHeader(bytes, options.maxHeapBytes);
  const verify = (['file', 'crc32', 'none'] as const).find((v) => v === options.verify) ?? 'full';
  // Without the file checksum, the small directory checksum still guards metadata and page table.
  if (verify === 'none') verifyDirectory(bytes, header);
  else if (verify === 'crc32') verifyDirectoryAndCrc(bytes, header);
  else verifyFile(bytes, header);
  const codec = codecFromId(header.codecId);
  if (!codec) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CODEC',
      `snapshot uses codec id ${header.codecId}, unknown to this version; upgrade @pyworkers/snapshot`,
    );
  }
  assertCodecAvailable(codec);
  const meta = parseSnapshotMeta(readMetaJson(bytes, header));
  if (meta.heapSize !== header.heapLength) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CORRUPT',
      `snapshot is corrupt: metadata says ${meta.heapSize} heap bytes, header ${header.heapLength}`,
    );
  }
  const runs = readRuns(bytes, header);
  const reference = checkReference(header, options.reference);
  const stored = bytes.subarray(header.dataOffset, header.dataOffset + header.storedLength);
  if (codec === 'none' && header.storedLength !== header.decodedLength) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CORRUPT',
      'snapshot is corrupt: uncompressed data section length differs from its literal pages',
    );
  }
  // Decompress before touching the target, so a bad data section leaves it unchanged.
  const data = decompress(codec, stored, header.decodedLength);
  const heap = targetView(options.into, header.heapLength);
  scatter(runs, heap, data, reference?.heap, options.into === undefined || !!options.intoIsZeroed);
  if (verify === 'full' && !equalBytes(sha256(heap), header.heapHash)) {
    throw header.delta
      ? new SnapshotError(
          'ERR_SNAPSHOT_REFERENCE',
          'decoded heap does not match its checksum: the reference heap is not the one its SHA-256 claims',
        )
      : new SnapshotError('ERR_SNAPSHOT_CORRUPT', 'decoded heap does not match its checksum');
  }
  return { meta, heap, pages: spansOf(runs, header.heapLength) };
}
