// Opening a wheel: its .dist-info, core metadata, and the RECORD check every install goes through.
import { createHash } from 'node:crypto';
import { ResolverError } from '../errors.js';
import type { CoreMetadata } from '../source.js';
import { parseCoreMetadata } from './metadata.js';
import { parseRecord, type RecordRow } from './record.js';
import { openZip, type ZipArchive, type ZipEntry, type ZipLimits } from './zip.js';

/** An opened wheel. */
export interface Wheel {
  readonly filename: string;
  readonly zip: ZipArchive;
  /** `{name}-{version}.dist-info`. */
  readonly distInfo: string;
  metadata(): CoreMetadata;
  record(): RecordRow[];
}

const STRONG = new Set(['sha256', 'sha384', 'sha512']);
const UNRECORDED = new Set(['RECORD', 'RECORD.jws', 'RECORD.p7s']);

/** Opens a wheel from its bytes and finds its `.dist-info` directory. */
export function openWheel(bytes: Uint8Array, filename: string, limits?: ZipLimits): Wheel {
  const zip = openZip(bytes, filename, limits);
  const candidates = new Set<string>();
  for (const e of zip.entries) {
    const top = e.name.split('/')[0]!;
    if (top.endsWith('.dist-info') && e.name === `${top}/METADATA`) candidates.add(top);
  }
  if (candidates.size === 0) {
    throw new ResolverError('ERR_WHEEL', `${filename} has no *.dist-info/METADATA: not a wheel`, {
      userError: false,
    });
  }
  // With several, the one named after the file (escaped name + version) wins.
  const [fileName = '', fileVersion = ''] = filename.split('-');
  const norm = (s: string) => s.toLowerCase().replace(/[-_.]+/g, '_');
  const distInfo =
    [...candidates].find((d) => norm(d) === norm(`${fileName}-${fileVersion}.dist-info`)) ??
    [...candidates][0]!;
  const text = (name: string): string => {
    const e = zip.get(`${distInfo}/${name}`);
    if (!e)
      throw new ResolverError('ERR_WHEEL', `${filename} has no ${distInfo}/${name}`, {
        userError: false,
      });
    return zip.read(e).toString('utf8');
  };
  // The binary distribution format: an installer must refuse a major Wheel-Version it does not know.
  const wheelFile = zip.get(`${distInfo}/WHEEL`);
  if (wheelFile) {
    const version = /^Wheel-Version:\s*(\d+)\.(\d+)/im.exec(zip.read(wheelFile).toString('utf8'));
    if (version && Number(version[1]) !== 1) {
      throw new ResolverError(
        'ERR_WHEEL',
        `${filename} is Wheel-Version ${version[1]}.${version[2]}; pyworkers installs version 1 wheels`,
      );
    }
  }
  return {
    filename,
    zip,
    distInfo,
    metadata: () => parseCoreMetadata(text('METADATA'), filename),
    record: () => parseRecord(text('RECORD'), filename),
  };
}

/** A file of a wheel, checked against RECORD, with its install path. */
export interface VerifiedFile {
  /** Path relative to the install root (`.data/purelib|platlib/` folded to the top). */
  path: string;
  entry: ZipEntry;
  data: Buffer;
}

/**
 * Reads every file of a wheel and checks each against RECORD (hash and size), as an installer
 * must: a file missing from RECORD, a weak or wrong hash, or a RECORD row without its file is an
 * `ERR_WHEEL`. Files under `.data/` other than purelib/platlib (scripts, headers, data) are left
 * out: a worker has no use for them.
 */
export function verifiedFiles(wheel: Wheel): VerifiedFile[] {
  const rows = new Map(wheel.record().map((r) => [r.path, r]));
  const fail = (why: string): never => {
    throw new ResolverError(
      'ERR_WHEEL',
      `${wheel.filename}: ${why}; the wheel is damaged or was tampered with`,
      // Not a pyworkers bug: the wheel came from the user's index, and the fix is theirs.
      { userError: true },
    );
  };
  const dataDir = `${wheel.distInfo.slice(0, -'.dist-info'.length)}.data/`;
  const out: VerifiedFile[] = [];
  const seen = new Set<string>();
  for (const entry of wheel.zip.entries) {
    if (entry.isDirectory) continue;
    seen.add(entry.name);
    const data = wheel.zip.read(entry);
    const base = entry.name.startsWith(`${wheel.distInfo}/`)
      ? entry.name.slice(wheel.distInfo.length + 1)
      : '';
    if (!UNRECORDED.has(base)) {
      const row = rows.get(entry.name);
      if (!row) fail(`"${entry.name}" is not listed in RECORD`);
      if (!row!.algorithm || !row!.digest) fail(`RECORD has no hash for "${entry.name}"`);
      if (!STRONG.has(row!.algorithm!))
        fail(`RECORD uses ${row!.algorithm} for "${entry.name}" (sha256 or stronger required)`);
      const digest = createHash(row!.algorithm!).update(data).digest('base64url');
      if (digest !== row!.digest!.replace(/=+$/, ''))
        fail(`"${entry.name}" does not match its RECORD hash`);
      if (row!.size !== undefined && row!.size !== data.length)
        fail(`"${entry.name}" is ${data.length} bytes, RECORD says ${row!.size}`);
    }
    let path = entry.name;
    if (path.startsWith(dataDir)) {
      const rest = path.slice(dataDir.length);
      const slash = rest.indexOf('/');
      const scheme = rest.slice(0, slash);
      if (scheme !== 'purelib' && scheme !== 'platlib') continue;
      path = rest.slice(slash + 1);
      if (!path) continue;
    }
    out.push({ path, entry, data });
  }
  for (const [path, row] of rows) {
    if (row.digest && !seen.has(path))
      fail(`RECORD lists "${path}" but the wheel does not hold it`);
  }
  return out;
}
