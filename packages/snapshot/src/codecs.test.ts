import { describe, expect, it } from 'vitest';
import { prng, sameBytes } from '../test/fixtures.js';
import { availableCodecs, compress, decompress, isCodecAvailable } from './codecs.js';
import { SnapshotError } from './errors.js';

function sample(n: number): Uint8Array {
  const rand = prng(7);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rand() < 0.5 ? 0 : Math.floor(rand() * 16);
  return out;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return (e as SnapshotError).code;
  }
}

// One contract every codec must meet.
describe.each(availableCodecs())('codec %s', (codec) => {
  it('round-trips data and the empty input', () => {
    for (const data of [sample(100_000), new Uint8Array(0)]) {
      const packed = compress(codec, data);
      expect(sameBytes(decompress(codec, packed, data.length), data)).toBe(true);
    }
  });

  it('refuses a data section that decodes to a different length', () => {
    const data = sample(10_000);
    const packed = compress(codec, data);
    expect(codeOf(() => decompress(codec, packed, data.length - 1))).toBe('ERR_SNAPSHOT_CORRUPT');
    expect(codeOf(() => decompress(codec, packed, data.length + 1))).toBe('ERR_SNAPSHOT_CORRUPT');
  });

  it.skipIf(codec === 'none')('stops a decompression bomb at the expected length', () => {
    const bomb = compress(codec, new Uint8Array(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(codeOf(() => decompress(codec, bomb, 4096))).toBe('ERR_SNAPSHOT_CORRUPT');
  });

  it.skipIf(codec === 'none')('refuses a level out of range', () => {
    expect(codeOf(() => compress(codec, sample(10), 99))).toBe('ERR_SNAPSHOT_CODEC');
  });
});

describe('zstd', () => {
  it('works where Node has it and is a clear ERR_SNAPSHOT_CODEC elsewhere', () => {
    const data = sample(10_000);
    if (isCodecAvailable('zstd')) {
      expect(sameBytes(decompress('zstd', compress('zstd', data), data.length), data)).toBe(true);
    } else {
      expect(() => compress('zstd', data)).toThrow(/not available in Node/);
      expect(codeOf(() => compress('zstd', data))).toBe('ERR_SNAPSHOT_CODEC');
    }
  });
});
