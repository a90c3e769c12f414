// How many bytes of an isolate's WebAssembly memory are resident, counted the way the OS counts
// RSS: the pages of that memory mapped to a page of their own (a page only ever read maps the
// shared zero page, which RSS does not count), from /proc/self/pagemap. The memory's address is
// not visible to JS: it is found once, in /proc/self/maps, by a random tag the isolate keeps in
// a block of its own heap. Off Linux (no /proc), callers fall back to the memory's size.
import { getRandomValues } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const PAGE = 4096;
const TAG_BYTES = 16;

/** Where this isolate's memory is mapped, once found. */
export interface ResidentProbe {
  /** Offset of the tag inside the memory. */
  tagAt: number;
  tag: Uint8Array;
  /** Address of the memory's first byte (found on first use), while it is `length` bytes. */
  base?: number;
  length?: number;
}

/**
 * Keeps a random tag at `tagAt` of `heap` (a block the caller allocated for it, e.g. with the
 * heap's malloc) and returns the probe that finds the memory by it.
 */
export function tagMemory(heap: Uint8Array, tagAt: number): ResidentProbe {
  const tag = getRandomValues(new Uint8Array(TAG_BYTES));
  heap.set(tag, tagAt);
  return { tagAt, tag };
}

/** Reads `length` bytes at `position` of a /proc/self file; undefined when it cannot. */
function readAt(path: string, position: number, length: number): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const n = readSync(fd, out, at, length - at, position + at);
      if (n === 0) return undefined;
      at += n;
    }
    return out;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The address of `heap`'s first byte: a private writable anonymous mapping whose last
 * `heap.length` bytes hold the tag at its offset. (A wasm memory's writable part is followed by
 * its inaccessible reservation, so it ends a mapping; another writable mapping right before it
 * may have been merged into the same line of /proc/self/maps.)
 */
function findBase(heap: Uint8Array, probe: ResidentProbe): number | undefined {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return undefined;
  }
  let mem: number | undefined;
  try {
    mem = openSync('/proc/self/mem', 'r');
    const seen = new Uint8Array(TAG_BYTES);
    for (const line of maps.split('\n')) {
      const [range, perms, , , inode, path] = line.split(/\s+/);
      if (perms !== 'rw-p' || inode !== '0' || path || !range) continue;
      const dash = range.indexOf('-');
      const start = Number.parseInt(range.slice(0, dash), 16);
      const end = Number.parseInt(range.slice(dash + 1), 16);
      if (end - start < heap.length) continue;
      const base = end - heap.length;
      if (readSync(mem, seen, 0, TAG_BYTES, base + probe.tagAt) !== TAG_BYTES) continue;
      if (Buffer.compare(seen, probe.tag) === 0) return base;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (mem !== undefined) closeSync(mem);
  }
}

/**
 * Resident bytes of `heap`, the memory `probe` tagged: its pages present and mapped by this
 * process alone. Undefined when /proc cannot say (the caller reports the memory's size).
 */
export function residentBytes(heap: Uint8Array, probe: ResidentProbe): number | undefined {
  // The tag must still be there: the heap may have been replaced (a swap) since it was written.
  if (Buffer.compare(heap.subarray(probe.tagAt, probe.tagAt + TAG_BYTES), probe.tag) !== 0) {
    return undefined;
  }
  // A memory that grew may have moved (it does not when V8 reserved its whole range).
  if (probe.length !== heap.length) probe.base = undefined;
  probe.length = heap.length;
  probe.base ??= findBase(heap, probe);
  if (probe.base === undefined) return undefined;
  const pages = Math.ceil(heap.length / PAGE);
  const entries = readAt('/proc/self/pagemap', (probe.base / PAGE) * 8, pages * 8);
  if (!entries) return undefined;
  let resident = 0;
  // Each entry is a little-endian u64: bit 63 present, bit 56 mapped exclusively (the zero page
  // and pages shared with another process are not).
  for (let i = 7; i < entries.length; i += 8) {
    if ((entries[i]! & 0x81) === 0x81) resident++;
  }
  return resident * PAGE;
}
