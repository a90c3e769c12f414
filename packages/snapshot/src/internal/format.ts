// The byte layout of a container (format version 3; 2 is read too). All integers little-endian.
//
//   offset size  field
//        0    8  magic "PYWSNAP\0"
//        8    4  format version (3, or 2 when no page is stored as a XOR)
//       12    4  page size of the page table (4096)
//       16    8  heap length in bytes
//       24    8  reference heap length in bytes (0 when not a delta)
//       32    8  stored length of the data section (as written, maybe compressed)
//       40    8  decoded length of the data section (the literal pages)
//       48    4  metadata length (JSON, UTF-8)
//       52    4  page-table run count
//       56    1  codec id (0 none, 1 gzip, 2 brotli, 3 zstd)
//       57    1  flags (bit 0: delta against a reference)
//       58    2  reserved, zero
//       60    4  CRC-32 of the data section as stored (a fast check for the restore path)
//       64   32  SHA-256 of the decoded heap
//       96   32  SHA-256 of the reference heap (zero when not a delta)
//      128   32  SHA-256 of bytes [0, 128) + metadata + page table ("directory")
//      160    -  metadata JSON
//        .    -  page table: run count x u32, kind in the top 2 bits, page count below
//                  (0 zero, 1 literal, 2 same as reference, 3 XOR with the reference: v3)
//        .    -  data section: literal and XOR pages in heap order
//      end-32 32 SHA-256 of everything before it
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { FORMAT_VERSION, MAX_HEAP_BYTES, PAGE_SIZE } from '../constants.js';
import { SnapshotError } from '../errors.js';

export { FORMAT_VERSION, MAX_HEAP_BYTES, PAGE_SIZE };

export const MAGIC = new Uint8Array([0x50, 0x59, 0x57, 0x53, 0x4e, 0x41, 0x50, 0x00]);
/** The oldest format version this build still reads (it has no XOR pages). */
export const OLDEST_FORMAT_VERSION = 2;
export const HEADER_BYTES = 160;
export const TRAILER_BYTES = 32;
export const MAX_META_BYTES = 16 * 1024 ** 2;
const DIRECTORY_HASH_AT = 128;
const FLAG_DELTA = 1;

export const PageKind = { zero: 0, literal: 1, reference: 2, xor: 3 } as const;
export type PageKindValue = (typeof PageKind)[keyof typeof PageKind];
const MAX_RUN_PAGES = 2 ** 30 - 1;

/** One run of consecutive pages of the same kind. */
export interface PageRun {
  kind: PageKindValue;
  pages: number;
}

export interface Header {
  version: number;
  heapLength: number;
  referenceLength: number;
  storedLength: number;
  decodedLength: number;
  metaLength: number;
  runCount: number;
  codecId: number;
  delta: boolean;
  dataCrc32: number;
  heapHash: Uint8Array;
  referenceHash: Uint8Array;
  directoryHash: Uint8Array;
  /** Offsets derived from the lengths. */
  metaOffset: number;
  tableOffset: number;
  dataOffset: number;
  fileLength: number;
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest().buffer);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function pageCount(heapLength: number): number {
  return Math.ceil(heapLength / PAGE_SIZE);
}

export interface HeaderFields {
  heapLength: number;
  referenceLength: number;
  storedLength: number;
  decodedLength: number;
  metaLength: number;
  runCount: number;
  codecId: number;
  delta: boolean;
  heapHash: Uint8Array;
  referenceHash: Uint8Array | undefined;
  /** 3 when a page is stored as a XOR with the reference, else 2 (readable by older builds). */
  version: number;
}

/** Writes the header into `out[0, HEADER_BYTES)`; the directory hash is filled in later. */
export function writeHeader(out: Uint8Array, f: HeaderFields): void {
  const v = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  out.set(MAGIC, 0);
  v.setUint32(8, f.version, true);
  v.setUint32(12, PAGE_SIZE, true);
  v.setBigUint64(16, BigInt(f.heapLength), true);
  v.setBigUint64(24, BigInt(f.referenceLength), true);
  v.setBigUint64(32, BigInt(f.storedLength), true);
  v.setBigUint64(40, BigInt(f.decodedLength), true);
  v.setUint32(48, f.metaLength, true);
  v.setUint32(52, f.runCount, true);
  v.setUint8(56, f.codecId);
  v.setUint8(57, f.delta ? FLAG_DELTA : 0);
  out.set(f.heapHash, 64);
  if (f.referenceHash) out.set(f.referenceHash, 96);
}

/**
 * Once metadata, page table and data section are in place: stores the data CRC-32 and the
 * directory hash (which covers it).
 */
export function sealDirectory(
  out: Uint8Array,
  header: Pick<Header, 'dataOffset'> & { storedLength: number },
): void {
  const data = out.subarray(header.dataOffset, header.dataOffset + header.storedLength);
  new DataView(out.buffer, out.byteOffset).setUint32(60, crc32(data), true);
  out.set(directoryHash(out, header.dataOffset), DIRECTORY_HASH_AT);
}

function directoryHash(bytes: Uint8Array, dataOffset: number): Uint8Array {
  return sha256(bytes.subarray(0, DIRECTORY_HASH_AT), bytes.subarray(HEADER_BYTES, dataOffset));
}

function tooLarge(what: string, value: bigint | number, limit: number): SnapshotError {
  return new SnapshotError(
    'ERR_SNAPSHOT_TOO_LARGE',
    `snapshot header claims ${what} of ${value} bytes, over the limit of ${limit}; the file is corrupt or not meant for wasm32`,
  );
}

function corrupt(message: string): SnapshotError {
  return new SnapshotError('ERR_SNAPSHOT_CORRUPT', `snapshot is corrupt: ${message}`);
}

/**
 * Reads and checks the fixed header: magic, version, and every size against its limit and
 * against the file length, before anything is allocated from those sizes.
 */
export function readHeader(bytes: Uint8Array, maxHeapBytes = MAX_HEAP_BYTES): Header {
  if (bytes.length < MAGIC.length && equalBytes(bytes, MAGIC.subarray(0, bytes.length))) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      `snapshot is truncated at ${bytes.length} bytes`,
    );
  }
  if (bytes.length < MAGIC.length || !equalBytes(bytes.subarray(0, MAGIC.length), MAGIC)) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_MAGIC',
      'not a pyworkers snapshot (bad magic); expected a file written by encodeSnapshot',
    );
  }
  if (bytes.length < 12) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      `snapshot is truncated at ${bytes.length} bytes`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint32(8, true);
  if (version !== FORMAT_VERSION && version !== OLDEST_FORMAT_VERSION) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_VERSION',
      `snapshot format version ${version} is not supported (this build reads ${FORMAT_VERSION}); rebuild the worker with this version of pyworkers`,
    );
  }
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      `snapshot is truncated at ${bytes.length} bytes, shorter than its header`,
    );
  }
  const pageSize = v.getUint32(12, true);
  if (pageSize !== PAGE_SIZE) throw corrupt(`page size ${pageSize}, expected ${PAGE_SIZE}`);
  const heapLength = v.getBigUint64(16, true);
  const referenceLength = v.getBigUint64(24, true);
  const storedLength = v.getBigUint64(32, true);
  const decodedLength = v.getBigUint64(40, true);
  const metaLength = v.getUint32(48, true);
  const runCount = v.getUint32(52, true);
  const limit = Math.min(maxHeapBytes, MAX_HEAP_BYTES);
  if (heapLength > BigInt(limit)) throw tooLarge('a heap', heapLength, limit);
  if (referenceLength > BigInt(MAX_HEAP_BYTES)) {
    throw tooLarge('a reference heap', referenceLength, MAX_HEAP_BYTES);
  }
  if (decodedLength > heapLength) {
    throw corrupt(`data section of ${decodedLength} bytes for a heap of ${heapLength}`);
  }
  if (metaLength > MAX_META_BYTES) throw tooLarge('metadata', metaLength, MAX_META_BYTES);
  const pages = pageCount(Number(heapLength));
  if (runCount > pages) throw corrupt(`${runCount} page runs for ${pages} pages`);
  if (storedLength > BigInt(MAX_HEAP_BYTES) * 2n) {
    throw tooLarge('a data section', storedLength, MAX_HEAP_BYTES * 2);
  }
  const codecId = v.getUint8(56);
  const flags = v.getUint8(57);
  if ((flags & ~FLAG_DELTA) !== 0) throw corrupt(`unknown flags 0x${flags.toString(16)}`);
  if (bytes[58] !== 0 || bytes[59] !== 0) throw corrupt('reserved header bytes are set');
  const delta = (flags & FLAG_DELTA) !== 0;
  if (!delta && referenceLength !== 0n) throw corrupt('a reference length without the delta flag');
  const metaOffset = HEADER_BYTES;
  const tableOffset = metaOffset + metaLength;
  const dataOffset = tableOffset + runCount * 4;
  const fileLength = dataOffset + Number(storedLength) + TRAILER_BYTES;
  if (bytes.length < fileLength) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TRUNCATED',
      `snapshot is truncated: ${bytes.length} of ${fileLength} bytes; copy or download it again`,
    );
  }
  if (bytes.length > fileLength) {
    throw corrupt(`${bytes.length - fileLength} unexpected bytes after the end`);
  }
  return {
    version,
    heapLength: Number(heapLength),
    referenceLength: Number(referenceLength),
    storedLength: Number(storedLength),
    decodedLength: Number(decodedLength),
    metaLength,
    runCount,
    codecId,
    delta,
    dataCrc32: v.getUint32(60, true),
    heapHash: bytes.subarray(64, 96),
    referenceHash: bytes.subarray(96, 128),
    directoryHash: bytes.subarray(128, 160),
    metaOffset,
    tableOffset,
    dataOffset,
    fileLength,
  };
}

/** Checks the directory hash: header, metadata and page table are intact. */
export function verifyDirectory(bytes: Uint8Array, header: Header): void {
  if (!equalBytes(directoryHash(bytes, header.dataOffset), header.directoryHash)) {
    throw corrupt('header, metadata or page table do not match their checksum');
  }
}

/** Checks the directory hash and the data section's CRC-32: catches accidental damage fast. */
export function verifyDirectoryAndCrc(bytes: Uint8Array, header: Header): void {
  verifyDirectory(bytes, header);
  const data = bytes.subarray(header.dataOffset, header.dataOffset + header.storedLength);
  if (crc32(data) !== header.dataCrc32) {
    throw corrupt('data section does not match its CRC-32; copy or download it again');
  }
}

/** Checks the file hash in the trailer: every byte of the file is intact. */
export function verifyFile(bytes: Uint8Array, header: Header): void {
  const end = header.fileLength - TRAILER_BYTES;
  if (!equalBytes(sha256(bytes.subarray(0, end)), bytes.subarray(end, header.fileLength))) {
    throw corrupt('file checksum does not match its contents; copy or download it again');
  }
}

export function encodeRuns(runs: PageRun[], out: Uint8Array, offset: number): void {
  const v = new DataView(out.buffer, out.byteOffset + offset, runs.length * 4);
  runs.forEach((r, i) => {
    v.setUint32(i * 4, ((r.kind << 30) | r.pages) >>> 0, true);
  });
}

/** Appends a run of `pages` pages of `kind`, merging with the previous run. */
export function pushRun(runs: PageRun[], kind: PageKindValue, pages = 1): void {
  const last = runs[runs.length - 1];
  if (last && last.kind === kind && last.pages + pages <= MAX_RUN_PAGES) last.pages += pages;
  else runs.push({ kind, pages });
}

/** Parses and checks the page table against the header: page counts and data length add up. */
export function readRuns(bytes: Uint8Array, header: Header): PageRun[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset + header.tableOffset, header.runCount * 4);
  const runs: PageRun[] = [];
  const pages = pageCount(header.heapLength);
  let seen = 0;
  let literalBytes = 0;
  for (let i = 0; i < header.runCount; i++) {
    const word = v.getUint32(i * 4, true);
    const kind = word >>> 30;
    const n = word & MAX_RUN_PAGES;
    if (n === 0 || (kind === PageKind.xor && header.version < 3)) {
      throw corrupt(`page-table entry ${i} is invalid`);
    }
    if ((kind === PageKind.reference || kind === PageKind.xor) && !header.delta) {
      throw corrupt(`page-table entry ${i} refers to a reference, but the snapshot is no delta`);
    }
    const start = seen * PAGE_SIZE;
    seen += n;
    if (seen > pages) throw corrupt(`page table covers more than the ${pages} pages of the heap`);
    const end = Math.min(seen * PAGE_SIZE, header.heapLength);
    if (kind === PageKind.literal || kind === PageKind.xor) literalBytes += end - start;
    if ((kind === PageKind.reference || kind === PageKind.xor) && end > header.referenceLength) {
      throw corrupt(`page-table entry ${i} reaches past the end of the reference heap`);
    }
    runs.push({ kind: kind as PageKindValue, pages: n });
  }
  if (seen !== pages) throw corrupt(`page table covers ${seen} of ${pages} pages`);
  if (literalBytes !== header.decodedLength) {
    throw corrupt(`literal pages hold ${literalBytes} bytes, data section ${header.decodedLength}`);
  }
  return runs;
}
