// Fuzzing the zip reader as the snapshot decoder is fuzzed: a wheel comes from an index, so any
// bytes may arrive. Every mutation must end in a ResolverError (ERR_WHEEL) or read cleanly;
// a RangeError from a read past the buffer is a crash the CLI would report as our bug.
import { describe, expect, it } from 'vitest';
import { writeZip } from '../../test/fixtures/zip-write.js';
import { isResolverError } from '../errors.js';
import { openZip } from './zip.js';

const ROUNDS = 3000;

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const base = writeZip([
  { name: 'pkg/__init__.py', data: 'x = 1\n'.repeat(50) },
  { name: 'pkg/data.bin', data: new Uint8Array(300).fill(7), store: true },
  { name: 'pkg-1.0.dist-info/RECORD', data: 'pkg/__init__.py,,\n' },
]);
const cdOffset = base.readUInt32LE(base.length - 6);

/** Where each central directory entry starts, to aim mutations at its fields. */
function centralEntries(buf: Buffer): number[] {
  const out: number[] = [];
  for (let p = cdOffset; p + 46 <= buf.length && buf.readUInt32LE(p) === 0x02014b50; ) {
    out.push(p);
    p += 46 + buf.readUInt16LE(p + 28) + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return out;
}
const entries = centralEntries(base);

type Mutation = (buf: Buffer, rnd: () => number) => Buffer;
const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)]!;
const WIDE = [0, 1, 0xff, 0xffff, 0xfffe, 0x7fff] as const;

const MUTATIONS: Record<string, Mutation> = {
  'flipped bytes': (buf, rnd) => {
    for (let k = 1 + Math.floor(rnd() * 8); k > 0; k--) {
      const at = Math.floor(rnd() * buf.length);
      buf[at] = buf[at]! ^ (1 + Math.floor(rnd() * 255));
    }
    return buf;
  },
  truncated: (buf, rnd) => buf.subarray(0, Math.floor(rnd() * buf.length)),
  // Name, extra and comment lengths of a central entry: extra fields past the entry, the file.
  'central lengths': (buf, rnd) => {
    const p = pick(entries, rnd);
    buf.writeUInt16LE(pick(WIDE, rnd), p + pick([28, 30, 32], rnd));
    return buf;
  },
  // Saturated sizes or offset (the zip64 path) with an extra field that is short or lies.
  'zip64 without its extra field': (buf, rnd) => {
    const p = pick(entries, rnd);
    buf.writeUInt32LE(0xffffffff, p + pick([20, 24, 42], rnd));
    const extra = Buffer.alloc(4 + Math.floor(rnd() * 24));
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(pick([0, 8, 16, 24, 0xffff], rnd), 2);
    const nameEnd = p + 46 + buf.readUInt16LE(p + 28);
    buf.writeUInt16LE(extra.length, p + 30);
    const out = Buffer.concat([buf.subarray(0, nameEnd), extra, buf.subarray(nameEnd)]);
    // The end record follows the central directory; keep its size field honest or not.
    if (rnd() < 0.5)
      out.writeUInt32LE(out.readUInt32LE(out.length - 10) + extra.length, out.length - 10);
    return out;
  },
  // The end record's count, size and offset, including the zip64 markers.
  'end record fields': (buf, rnd) => {
    const eocd = buf.length - 22;
    const at = pick([8, 10, 12, 16], rnd);
    if (at >= 12)
      buf.writeUInt32LE(rnd() < 0.5 ? 0xffffffff : Math.floor(rnd() * 2 ** 32), eocd + at);
    else buf.writeUInt16LE(pick(WIDE, rnd), eocd + at);
    return buf;
  },
  // A local header's name and extra lengths (read only when the entry is read).
  'local header lengths': (buf, rnd) => {
    const p = pick(entries, rnd);
    const local = buf.readUInt32LE(p + 42);
    buf.writeUInt16LE(pick(WIDE, rnd), local + pick([26, 28], rnd));
    return buf;
  },
};

function outcome(bytes: Buffer): string {
  try {
    const zip = openZip(bytes, 'fuzz.whl');
    for (const e of zip.entries) zip.read(e);
    return 'read';
  } catch (e) {
    if (isResolverError(e) && e.code === 'ERR_WHEEL') return 'ERR_WHEEL';
    return `CRASH ${(e as Error)?.stack ?? String(e)}`;
  }
}

describe('openZip under mutation', () => {
  it('reads the unmutated archive', () => {
    expect(outcome(Buffer.from(base))).toBe('read');
    expect(entries).toHaveLength(3);
  });

  it.each(Object.keys(MUTATIONS))('%s: a ResolverError or a clean read, never a crash', (kind) => {
    const rnd = prng(kind.length * 7919);
    const crashes = new Map<string, number>();
    let refused = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const got = outcome(MUTATIONS[kind]!(Buffer.from(base), rnd));
      if (got === 'ERR_WHEEL') refused++;
      else if (got !== 'read') crashes.set(got.split('\n')[0]!, round);
    }
    expect([...crashes.keys()]).toEqual([]);
    // The mutations are not all harmless: most of them must be caught.
    expect(refused).toBeGreaterThan(ROUNDS / 10);
  });
});
