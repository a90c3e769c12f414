import { describe, expect, it } from 'vitest';
import { syntheticHeap } from '../../test/fixtures.js';
import { crc32, crc32Fallback } from './crc32.js';

describe('crc32', () => {
  it('matches the standard check value and the fallback for Node without zlib.crc32', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Fallback(check)).toBe(0xcbf43926);
    const heap = syntheticHeap(64 * 1024, 9);
    expect(crc32Fallback(heap)).toBe(crc32(heap));
  });
});
