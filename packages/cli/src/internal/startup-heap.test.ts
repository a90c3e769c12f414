import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const helper = fileURLToPath(new URL('./startup-heap.ts', import.meta.url));

// In a fresh node (V8 flags are per process): the new space's size while `load` allocates
// objects that survive a few scavenges, then after it returned, doing the same again.
const SCRIPT = `
import { getHeapSpaceStatistics } from 'node:v8';
import { loadWithSmallYoungGeneration } from ${JSON.stringify(helper)};
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
function churn() {
  let keep = [];
  for (let i = 0; i < 2e6; i++) {
    keep.push({ i, s: 'x' + i });
    if (keep.length > 20000) keep = [];
  }
}
const before = newSpace();
const during = await loadWithSmallYoungGeneration(async () => { churn(); return newSpace(); });
churn();
console.log(JSON.stringify({ before, during, after: newSpace() }));
`;
function run(nodeArgs: string[] = []): { before: number; during: number; after: number } {
  const out = execFileSync(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', SCRIPT],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('loadWithSmallYoungGeneration', () => {
  it('keeps the young generation at its first size while loading, and lets it grow after', () => {
    const { before, during, after } = run();
    expect(during).toBe(before);
    expect(after).toBeGreaterThan(during);
  });

  it('leaves a growth factor the operator set alone', () => {
    const { before, during } = run(['--semi-space-growth-factor=4']);
    expect(during).toBeGreaterThan(before);
  });
});
