import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from './crc32.js';

describe('crc32', () => {
  it('matches the reference value and the portable loop', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = randomBytes(4096);
    expect(crc32(data)).toBe(crc32Js(data));
    expect(crc32(new Uint8Array())).toBe(0);
  });
});
