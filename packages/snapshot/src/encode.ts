import { CODEC_IDS, compress, type SnapshotCodec } from './codecs.js';
import { SnapshotError } from './errors.js';
import {
  encodeRuns,
  FORMAT_VERSION,
  HEADER_BYTES,
  MAX_HEAP_BYTES,
  MAX_META_BYTES,
  OLDEST_FORMAT_VERSION,
  PAGE_SIZE,
  PageKind,
  type PageRun,
  pushRun,
  sealDirectory,
  sha256,
  TRAILER_BYTES,
  writeHeader,
} from './internal/format.js';
import { equalWords, xorBytes } from './internal/words.js';
import { parseSnapshotMeta, type SnapshotMeta } from './meta.js';
import { type SnapshotReference, toReference } from './reference.js';

/** Options of {@link encodeSnapshot}. */
export interface EncodeOptions {
  /**
   * The heap of the snapshot this one is a delta against (e.g. the baseline a dedicated
   * snapshot was taken on top of). Pages equal to the reference are stored as references;
   * decoding then needs the same reference.
   */
  reference?: Uint8Array | SnapshotReference;
  /** Compression of the data section; default `none` (fastest to decode). */
  codec?: SnapshotCodec;
  /** Codec level (gzip 0-9, brotli 0-11, zstd 1-22); default per codec. */
  level?: number;
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

function isZero(page: Uint8Array): boolean {
  return Buffer.compare(page, ZERO_PAGE.subarray(0, page.length)) === 0;
}

/** Whether most 4-byte words of two pages are equal: then their XOR is mostly zeros. */
function mostlySame(a: Uint8Array, b: Uint8Array): boolean {
  return equalWords(a, b) * 4 * 2 >= a.length;
}

/**
 * Splits the heap into runs of zero, reference, XOR and literal 4 KiB pages. A page of a delta
 * that differs from the reference in a few words (refcounts, list links: most changed pages of
 * a worker's heap on top of its baseline) is stored as its XOR with the reference, which
 * compresses to almost nothing; a page of new content stays literal.
 */
function classify(heap: Uint8Array, reference: Uint8Array | undefined): PageRun[] {
  const runs: PageRun[] = [];
  for (let start = 0; start < heap.length; start += PAGE_SIZE) {
    const end = Math.min(start + PAGE_SIZE, heap.length);
    const page = heap.subarray(start, end);
    if (isZero(page)) pushRun(runs, PageKind.zero);
    else if (reference && end <= reference.length) {
      const ref = reference.subarray(start, end);
      if (Buffer.compare(page, ref) === 0) pushRun(runs, PageKind.reference);
      else pushRun(runs, mostlySame(page, ref) ? PageKind.xor : PageKind.literal);
    } else pushRun(runs, PageKind.literal);
  }
  return runs;
}

/** Calls `fn(heapStart, heapEnd, xor)` for each run of stored (literal or XOR) pages. */
function forEachStored(
  runs: PageRun[],
  heapLength: number,
  fn: (start: number, end: number, xor: boolean) => void,
): void {
  let page = 0;
  for (const r of runs) {
    if (r.kind === PageKind.literal || r.kind === PageKind.xor) {
      fn(
        page * PAGE_SIZE,
        Math.min((page + r.pages) * PAGE_SIZE, heapLength),
        r.kind === PageKind.xor,
      );
    }
    page += r.pages;
  }
}

/** Writes the stored pages of `heap` (XOR pages as heap ^ reference) into `out` from `offset`. */
function writeStored(
  runs: PageRun[],
  heap: Uint8Array,
  reference: Uint8Array | undefined,
  out: Uint8Array,
  offset: number,
): void {
  let o = offset;
  forEachStored(runs, heap.length, (s, e, xor) => {
    if (!xor) out.set(heap.subarray(s, e), o);
    else xorBytes(out, o, heap, s, reference!, s, e - s);
    o += e - s;
  });
}

/**
 * Encodes a heap and its metadata into a snapshot container: zero pages and pages equal to
 * the reference cost 4 bytes per run, the rest is stored (compressed with `codec`).
 * @example
 * const bytes = encodeSnapshot(heap, meta, { codec: 'brotli' });
 * const delta = encodeSnapshot(heap, meta, { reference: baselineHeap });
 */
export function encodeSnapshot(
  heap: Uint8Array,
  meta: SnapshotMeta,
  options: EncodeOptions = {},
): Uint8Array {
  if (!(heap instanceof Uint8Array)) {
    throw new SnapshotError('ERR_SNAPSHOT_META', 'heap must be a Uint8Array');
  }
  if (heap.length > MAX_HEAP_BYTES) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TOO_LARGE',
      `heap of ${heap.length} bytes is over the wasm32 limit of ${MAX_HEAP_BYTES}`,
    );
  }
  const checked = parseSnapshotMeta(meta);
  if (checked.heapSize !== heap.length) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_META',
      `meta.heapSize is ${checked.heapSize} but the heap has ${heap.length} bytes; set heapSize to heap.length`,
    );
  }
  const codec = options.codec ?? 'none';
  if (!(codec in CODEC_IDS)) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CODEC',
      `unknown codec "${String(codec)}"; use one of ${Object.keys(CODEC_IDS).join(', ')}`,
    );
  }
  const reference = options.reference ? toReference(options.reference) : undefined;
  const runs = classify(heap, reference?.heap);

  let decodedLength = 0;
  forEachStored(runs, heap.length, (s, e) => {
    decodedLength += e - s;
  });
  let stored: Uint8Array | undefined;
  if (codec !== 'none') {
    const literal = new Uint8Array(decodedLength);
    writeStored(runs, heap, reference?.heap, literal, 0);
    stored = compress(codec, literal, options.level);
  } else if (options.level !== undefined) {
    throw new SnapshotError('ERR_SNAPSHOT_CODEC', 'codec "none" takes no level');
  }
  const storedLength = stored ? stored.length : decodedLength;

  const metaBytes = new TextEncoder().encode(JSON.stringify(checked));
  if (metaBytes.length > MAX_META_BYTES) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_TOO_LARGE',
      `metadata of ${metaBytes.length} bytes is over ${MAX_META_BYTES}; keep app data small`,
    );
  }
  const tableOffset = HEADER_BYTES + metaBytes.length;
  const dataOffset = tableOffset + runs.length * 4;
  const out = new Uint8Array(dataOffset + storedLength + TRAILER_BYTES);
  writeHeader(out, {
    heapLength: heap.length,
    referenceLength: reference ? reference.heap.length : 0,
    storedLength,
    decodedLength,
    metaLength: metaBytes.length,
    runCount: runs.length,
    codecId: CODEC_IDS[codec],
    delta: reference !== undefined,
    heapHash: sha256(heap),
    referenceHash: reference?.sha256,
    version: runs.some((r) => r.kind === PageKind.xor) ? FORMAT_VERSION : OLDEST_FORMAT_VERSION,
  });
  out.set(metaBytes, HEADER_BYTES);
  encodeRuns(runs, out, tableOffset);
  if (stored) out.set(stored, dataOffset);
  else writeStored(runs, heap, reference?.heap, out, dataOffset);
  sealDirectory(out, { dataOffset, storedLength });
  const end = out.length - TRAILER_BYTES;
  out.set(sha256(out.subarray(0, end)), end);
  return out;
}
