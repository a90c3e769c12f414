import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type TreeWatch, watchTree } from './watch-tree.js';

let root: string;
let tree: TreeWatch | undefined;
afterEach(() => {
  tree?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Waits until `seen` holds `path` (polled), then forgets what was seen. */
async function expectChange(seen: Set<string>, path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!seen.has(path)) {
    if (Date.now() > deadline) throw new Error(`no change reported for ${path}: ${[...seen]}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  seen.clear();
}

/** Saves as editors do atomically (and `sed -i`): a new file renamed over the old one. */
function atomicSave(path: string, text: string): void {
  writeFileSync(`${path}.tmp-save`, text);
  renameSync(`${path}.tmp-save`, path);
}

describe('watchTree', () => {
  it('keeps reporting a file saved by rename, again and again, and in place after that', async () => {
    root = mkdtempSync(join(tmpdir(), 'pyw-watch-'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'entry.py'), 'A = 1\n');
    const seen = new Set<string>();
    tree = watchTree(root, (rel) => seen.add(rel));
    for (let i = 2; i < 5; i++) {
      atomicSave(join(root, 'src', 'entry.py'), `A = ${i}\n`);
      await expectChange(seen, join('src', 'entry.py'));
    }
    writeFileSync(join(root, 'src', 'entry.py'), 'A = 9\n');
    await expectChange(seen, join('src', 'entry.py'));
  });

  it('watches directories made after it started, and skips the ones it is told to', async () => {
    root = mkdtempSync(join(tmpdir(), 'pyw-watch-'));
    mkdirSync(join(root, 'node_modules'));
    const seen = new Set<string>();
    tree = watchTree(
      root,
      (rel) => seen.add(rel),
      (rel) => !rel.startsWith('node_modules'),
    );
    mkdirSync(join(root, 'pkg'));
    await expectChange(seen, 'pkg');
    writeFileSync(join(root, 'pkg', 'mod.py'), 'B = 1\n');
    await expectChange(seen, join('pkg', 'mod.py'));
    writeFileSync(join(root, 'node_modules', 'x.js'), '');
    writeFileSync(join(root, 'top.py'), '');
    const deadline = Date.now() + 10_000;
    while (!seen.has('top.py') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(seen.has('top.py')).toBe(true);
    expect([...seen]).not.toContain(join('node_modules', 'x.js'));
  });
});
