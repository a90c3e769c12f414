import { codecFromId, isCodecAvailable, type SnapshotCodec } from './codecs.js';
import { SnapshotError } from './errors.js';
import { PAGE_SIZE, PageKind, readHeader, readRuns, verifyDirectory } from './internal/format.js';
import { readMetaJson } from './internal/read-meta.js';
import { parseSnapshotMeta, type SnapshotMeta } from './meta.js';

/** Statistics of a snapshot, read without decoding (or decompressing) the heap. */
export interface SnapshotInfo {
  meta: SnapshotMeta;
  formatVersion: number;
  codec: SnapshotCodec;
  /** Whether this Node build can decode the codec. */
  codecAvailable: boolean;
  /** Whether the snapshot is a delta that needs its reference heap to decode. */
  delta: boolean;
  /** Size of the page-table pages in bytes (4096). */
  pageSize: number;
  /** `xor`: pages stored as their XOR with the reference (changed in a few words). */
  pages: { total: number; zero: number; literal: number; reference: number; xor: number };
  fileBytes: number;
  heapBytes: number;
  /** Bytes of the literal pages, before and after compression. */
  dataBytes: number;
  storedDataBytes: number;
  ratios: {
    /** File size / heap size: what shipping this file costs against the raw heap. */
    fileToHeap: number;
    /** Compressed / uncompressed literal pages (1 for codec none). */
    compression: number;
  };
  heapSha256: string;
  /** SHA-256 of the reference heap a delta needs, else null. */
  referenceSha256: string | null;
  referenceBytes: number | null;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Reads a snapshot's metadata and page statistics without decoding the heap. Header,
 * metadata and page table are checked against their own checksum; the data section is not.
 * @example const { codec, pages, ratios } = inspectSnapshot(bytes);
 */
export function inspectSnapshot(bytes: Uint8Array): SnapshotInfo {
  if (!(bytes instanceof Uint8Array)) {
    throw new SnapshotError('ERR_SNAPSHOT_MAGIC', 'snapshot must be a Uint8Array');
  }
  const header = readHeader(bytes);
  verifyDirectory(bytes, header);
  const codec = codecFromId(header.codecId);
  if (!codec) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CODEC',
      `snapshot uses codec id ${header.codecId}, unknown to this version; upgrade @pyworkers/snapshot`,
    );
  }
  const meta = parseSnapshotMeta(readMetaJson(bytes, header));
  const runs = readRuns(bytes, header);
  const pages = { total: 0, zero: 0, literal: 0, reference: 0, xor: 0 };
  for (const r of runs) {
    pages.total += r.pages;
    if (r.kind === PageKind.zero) pages.zero += r.pages;
    else if (r.kind === PageKind.literal) pages.literal += r.pages;
    else if (r.kind === PageKind.xor) pages.xor += r.pages;
    else pages.reference += r.pages;
  }
  return {
    meta,
    formatVersion: header.version,
    codec,
    codecAvailable: isCodecAvailable(codec),
    delta: header.delta,
    pageSize: PAGE_SIZE,
    pages,
    fileBytes: bytes.length,
    heapBytes: header.heapLength,
    dataBytes: header.decodedLength,
    storedDataBytes: header.storedLength,
    ratios: {
      fileToHeap: header.heapLength === 0 ? 0 : bytes.length / header.heapLength,
      compression: header.decodedLength === 0 ? 1 : header.storedLength / header.decodedLength,
    },
    heapSha256: hex(header.heapHash),
    referenceSha256: header.delta ? hex(header.referenceHash) : null,
    referenceBytes: header.delta ? header.referenceLength : null,
  };
}
