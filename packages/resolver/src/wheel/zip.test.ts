import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeZip } from '../../test/fixtures/zip-write.js';
import { referencePython } from '../../test/reference-python.js';
import { ResolverError } from '../errors.js';
import { openZip, unsafePathReason } from './zip.js';

function zipError(bytes: Uint8Array, limits = {}): ResolverError {
  try {
    const z = openZip(bytes, 'demo.whl', limits);
    for (const e of z.entries) z.read(e);
  } catch (e) {
    expect(e).toBeInstanceOf(ResolverError);
    expect((e as ResolverError).code).toBe('ERR_WHEEL');
    return e as ResolverError;
  }
  throw new Error('expected openZip to fail');
}

describe('openZip', () => {
  it('reads stored and deflated entries with their Unix modes', () => {
    const big = 'x'.repeat(10_000);
    const z = openZip(
      writeZip([
        { name: 'a.txt', data: 'hello', store: true },
        { name: 'pkg/b.py', data: big, mode: 0o100755 },
        { name: 'pkg/', data: '', mode: 0o40755 },
      ]),
      'demo.whl',
    );
    expect(z.entries.map((e) => e.name)).toEqual(['a.txt', 'pkg/b.py', 'pkg/']);
    expect(z.read(z.get('a.txt')!).toString()).toBe('hello');
    const b = z.get('pkg/b.py')!;
    expect(b.method).toBe(8);
    expect(b.compressedSize).toBeLessThan(b.size);
    expect(z.read(b).toString()).toBe(big);
    expect(b.mode).toBe(0o755);
    expect(z.get('pkg/')!.isDirectory).toBe(true);
  });

  it.each([
    ['../evil.py', 'contains ".."'],
    ['pkg/../../evil.py', 'contains ".."'],
    ['/etc/passwd', 'absolute path'],
    ['C:/x.py', 'drive letter'],
    ['pkg\\x.py', 'backslash'],
  ])('refuses the entry %s', (name, why) => {
    expect(zipError(writeZip([{ name, data: 'x' }])).message).toContain(why);
  });

  it('refuses symlinks', () => {
    const err = zipError(writeZip([{ name: 'pkg/link', data: '/etc/passwd', mode: 0o120777 }]));
    expect(err.message).toContain('"pkg/link" is a symlink');
  });

  it('detects corruption, truncation and size lies', () => {
    const good = writeZip([{ name: 'a.txt', data: 'hello world', store: true }]);
    const flipped = Buffer.from(good);
    flipped[35] = flipped[35]! ^ 0xff; // the first data byte (30-byte header + "a.txt")
    expect(zipError(flipped).message).toContain('CRC-32');
    expect(zipError(good.subarray(0, good.length - 10)).message).toContain(
      'end of central directory',
    );
    const lying = Buffer.from(writeZip([{ name: 'a.txt', data: 'y'.repeat(5000) }]));
    const cd = lying.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    lying.writeUInt32LE(10, cd + 24); // claim 10 bytes uncompressed
    expect(zipError(lying).message).toMatch(/inflate|bytes/);
  });

  it('refuses an entry whose local header names another file', () => {
    const z = Buffer.from(writeZip([{ name: 'pkg/ok.py', data: 'x', store: true }]));
    z.write('pkg/no.py', 30); // the local header's copy of the name
    expect(zipError(z).message).toContain('different name in its local header');
  });

  it('enforces size limits', () => {
    const z = writeZip([
      { name: 'a', data: 'z'.repeat(2000) },
      { name: 'b', data: 'z'.repeat(2000) },
    ]);
    expect(zipError(z, { maxEntrySize: 1000 }).message).toContain('limit 1000');
    expect(zipError(z, { maxTotalSize: 3000 }).message).toContain('more than 3000');
    expect(zipError(z, { maxEntries: 1 }).message).toContain('2 entries');
  });

  it.skipIf(!referencePython())('reads zip64 archives written by Python', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyw-zip64-'));
    try {
      const file = join(dir, 'z.zip');
      execFileSync('python3', [
        '-c',
        `import zipfile,sys
with zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:
  with z.open('big/data.bin','w',force_zip64=True) as f: f.write(b'abc'*1000)
  z.writestr('small.txt','hi')`,
        file,
      ]);
      const z = openZip(readFileSync(file), 'z.zip');
      expect(z.read(z.get('big/data.bin')!).length).toBe(3000);
      expect(z.read(z.get('small.txt')!).toString()).toBe('hi');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names safe paths as safe', () => {
    expect(unsafePathReason('pkg/sub/mod.py')).toBeNull();
    expect(unsafePathReason('pkg/..hidden/x')).toBeNull();
  });
});
