import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { residentBytes, tagMemory } from './resident.js';

const PAGE = 4096;
const onLinux = process.platform === 'linux';

/** Rss of the mapping that ends at `end`, from /proc/self/smaps: what the OS counts. */
function smapsRss(end: number): number {
  const text = readFileSync('/proc/self/smaps', 'utf8');
  const at = text.indexOf(`-${end.toString(16)} `);
  const rss = /\nRss:\s+(\d+) kB/.exec(text.slice(at));
  return Number(rss?.[1] ?? -1) * 1024;
}

describe.runIf(onLinux)('resident bytes of a WebAssembly memory', () => {
  it('counts the pages written, not those only read, as smaps counts them', () => {
    const memory = new WebAssembly.Memory({ initial: 160 }); // 10 MiB
    const heap = new Uint8Array(memory.buffer);
    const probe = tagMemory(heap, 3 * PAGE + 16);
    const first = residentBytes(heap, probe)!;
    expect(first).toBeGreaterThanOrEqual(PAGE);
    expect(first).toBeLessThan(8 * PAGE);
    for (let p = 100; p < 300; p++) heap[p * PAGE] = 1;
    // Reading untouched pages maps the zero page: not resident in RSS terms.
    let sum = 0;
    for (let p = 400; p < 900; p++) sum += heap[p * PAGE + 7]!;
    expect(sum).toBe(0);
    const after = residentBytes(heap, probe)!;
    expect(after - first).toBe(200 * PAGE);
    expect(after).toBe(smapsRss(probe.base! + heap.length));
  });

  it('finds each of several memories by its own tag, and says nothing once the tag is gone', () => {
    const heaps = [1, 2, 3].map(
      () => new Uint8Array(new WebAssembly.Memory({ initial: 16 }).buffer),
    );
    const probes = heaps.map((h) => tagMemory(h, 64));
    heaps.forEach((h, i) => {
      for (let p = 0; p < 10 * (i + 1); p++) h[PAGE * (p + 1)] = 1;
    });
    const counts = heaps.map((h, i) => residentBytes(h, probes[i]!)! / PAGE);
    expect(counts[1]! - counts[0]!).toBe(10);
    expect(counts[2]! - counts[1]!).toBe(10);
    expect(new Set(probes.map((p) => p.base)).size).toBe(3);
    heaps[0]!.fill(0, 64, 80);
    expect(residentBytes(heaps[0]!, probes[0]!)).toBeUndefined();
  });
});
