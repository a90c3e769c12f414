import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-write.js';

describe('writeFileAtomic', () => {
  it('replaces a file whole, creating its directory, and leaves no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyworkers-atomic-'));
    const file = join(dir, 'a', 'b', 'f.txt');
    await writeFileAtomic(file, 'one');
    writeFileAtomicSync(file, new TextEncoder().encode('two'));
    expect(readFileSync(file, 'utf8')).toBe('two');
    // Many writers at once: the file ends as one of them, whole.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => writeFileAtomic(file, `v${i}`.repeat(1000))),
    );
    expect(readFileSync(file, 'utf8')).toMatch(/^(v\d+)\1*$/);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['f.txt']);
  });

  it('fails without leaving a temp file when the target cannot be replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyworkers-atomic-'));
    const target = join(dir, 'taken');
    mkdirSync(join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(() => writeFileAtomicSync(target, 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});
