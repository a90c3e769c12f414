// A zip reader for wheels: reads the central directory (zip64 included), inflates with node:zlib,
// checks sizes and CRC-32, and refuses archives that could write outside their target (`..`,
// absolute paths, drive letters, backslashes) or that hold symlinks or encrypted entries.
import { crc32, inflateRawSync } from 'node:zlib';
import { ResolverError } from '../errors.js';

/** One file of a zip archive. */
export interface ZipEntry {
  /** The path inside the archive, `/`-separated. */
  name: string;
  /** Uncompressed size. */
  size: number;
  compressedSize: number;
  method: number;
  crc32: number;
  /** Unix permission bits when the archive was made on Unix (else undefined). */
  mode?: number;
  isDirectory: boolean;
  /** Offset of the local header. */
  offset: number;
  /** The name's bytes as stored, to compare with the local header. */
  rawName: Buffer;
}

export interface ZipLimits {
  /** Most entries an archive may hold (default 100 000). */
  maxEntries?: number;
  /** Largest uncompressed entry (default 1 GiB). */
  maxEntrySize?: number;
  /** Largest total uncompressed size (default 4 GiB). */
  maxTotalSize?: number;
}

/** An opened archive: its entries, and a way to read one. */
export interface ZipArchive {
  readonly entries: readonly ZipEntry[];
  /** The entry of that name, if any. */
  get(name: string): ZipEntry | undefined;
  /** The uncompressed bytes of an entry, CRC-checked. */
  read(entry: ZipEntry): Buffer;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Why a path inside an archive is unsafe to extract, or null when it is fine. */
export function unsafePathReason(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (name.split('/').some((seg) => seg === '..')) return 'contains ".."';
  if (name === '' || name === '.') return 'is empty';
  return null;
}

/**
 * Opens a zip archive held in memory.
 * @param label names the archive in errors (a file name or URL)
 */
export function openZip(bytes: Uint8Array, label: string, limits: ZipLimits = {}): ZipArchive {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new ResolverError('ERR_WHEEL', `${label} is not a usable zip archive: ${why}`);
  };
  const maxEntries = limits.maxEntries ?? 100_000;
  const maxEntrySize = limits.maxEntrySize ?? 1024 ** 3;
  const maxTotalSize = limits.maxTotalSize ?? 4 * 1024 ** 3;

  // The end of central directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end of central directory record (truncated download?)');
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== ZIP64_LOCATOR) fail('zip64 locator missing');
    const z64 = Number(buf.readBigUInt64LE(loc + 8));
    if (z64 + 56 > buf.length || buf.readUInt32LE(z64) !== ZIP64_EOCD) fail('zip64 record missing');
    count = Number(buf.readBigUInt64LE(z64 + 32));
    cdSize = Number(buf.readBigUInt64LE(z64 + 40));
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  if (count > maxEntries) fail(`it holds ${count} entries (limit ${maxEntries})`);
  if (cdOffset + cdSize > buf.length) fail('central directory lies past the end of the file');

  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  let total = 0;
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL)
      fail(`central directory entry ${n} is damaged`);
    const p0 = p;
    const madeBy = buf.readUInt16LE(p + 4);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    let offset = buf.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > buf.length)
      fail(`central directory entry ${n} runs past the end of the file`);
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 64-bit values appear only for fields that were saturated.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (e + 4 + len > extraEnd) fail(`entry "${name}" has an extra field past its end`);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          if (q + 8 > e + 4 + len) fail(`entry "${name}" has a zip64 field too short`);
          const v = Number(buf.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (offset === 0xffffffff) offset = next();
      }
      e += 4 + len;
    }
    p = extraEnd + commentLen;

    const unsafe = unsafePathReason(name);
    if (unsafe) fail(`entry "${name}" ${unsafe}`);
    const unix = madeBy >> 8 === 3;
    const mode = unix ? (external >>> 16) & 0xffff : undefined;
    if (mode !== undefined && (mode & S_IFMT) === S_IFLNK) fail(`entry "${name}" is a symlink`);
    if (flags & 1) fail(`entry "${name}" is encrypted`);
    if (method !== 0 && method !== 8) fail(`entry "${name}" uses compression method ${method}`);
    if (size > maxEntrySize) fail(`entry "${name}" is ${size} bytes (limit ${maxEntrySize})`);
    total += size;
    if (total > maxTotalSize) fail(`it unpacks to more than ${maxTotalSize} bytes`);
    if (byName.has(name)) fail(`entry "${name}" appears twice`);
    const entry: ZipEntry = {
      name,
      size,
      compressedSize,
      method,
      crc32: crc,
      ...(mode !== undefined ? { mode: mode & 0o7777 } : {}),
      isDirectory: name.endsWith('/'),
      offset,
      rawName: buf.subarray(p0 + 46, p0 + 46 + nameLen),
    };
    entries.push(entry);
    byName.set(name, entry);
  }

  const read = (entry: ZipEntry): Buffer => {
    const o = entry.offset;
    if (o + 30 > buf.length || buf.readUInt32LE(o) !== LOCAL)
      fail(`local header of "${entry.name}" is damaged`);
    const localNameLen = buf.readUInt16LE(o + 26);
    // A local name that differs from the central one is how zip-confusion attacks show one file
    // to the checker and another to an extractor; Python's zipfile refuses it too.
    const localName = buf.subarray(o + 30, o + 30 + localNameLen);
    if (!localName.equals(entry.rawName)) {
      fail(`"${entry.name}" has a different name in its local header`);
    }
    const start = o + 30 + localNameLen + buf.readUInt16LE(o + 28);
    const end = start + entry.compressedSize;
    if (end > buf.length) fail(`"${entry.name}" runs past the end of the file`);
    const raw = buf.subarray(start, end);
    let data: Buffer;
    if (entry.method === 0) data = Buffer.from(raw);
    else {
      try {
        // maxOutputLength bounds a lying header: we never inflate more than the declared size.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (cause) {
        throw new ResolverError(
          'ERR_WHEEL',
          `${label}: cannot inflate "${entry.name}": ${(cause as Error).message}`,
          { cause },
        );
      }
    }
    if (data.length !== entry.size)
      fail(`"${entry.name}" is ${data.length} bytes, header says ${entry.size}`);
    if (crc32(data) !== entry.crc32) fail(`"${entry.name}" fails its CRC-32 check`);
    return data;
  };

  return { entries, get: (name) => byName.get(name), read };
}
