import { describe, expect, it } from 'vitest';
import { release } from './release.js';

describe('release', () => {
  it('frees a buffer that is the whole of its ArrayBuffer (its views read as empty)', () => {
    const bytes = new Uint8Array(2 << 20).fill(7);
    const view = new Uint8Array(bytes.buffer, 16, 16);
    release(bytes);
    expect(bytes.length).toBe(0);
    expect(view.length).toBe(0);
  });

  it('leaves shared memory, slices and small buffers to the GC', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(2 << 20));
    const whole = new Uint8Array(4 << 20);
    const slice = whole.subarray(1 << 20);
    const small = new Uint8Array(1024);
    for (const b of [shared, slice, small]) release(b);
    expect([shared.length, slice.length, whole.length, small.length]).toEqual([
      2 << 20,
      3 << 20,
      4 << 20,
      1024,
    ]);
  });
});
