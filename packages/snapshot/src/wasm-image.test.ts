import { describe, expect, it } from 'vitest';
import { codeOf, prng, randInt, sameBytes } from '../test/fixtures.js';
import { wasmDataImage } from './wasm-image.js';

const text = (s: string) => [...s].map((c) => c.charCodeAt(0));
function section(id: number, body: number[]): number[] {
  return [id, body.length, ...body];
}
// A module with one exported memory and active, passive and memory-indexed data segments.
const data = [
  3,
  ...[0x00, 0x41, 0x10, 0x0b, 3, ...text('abc')],
  ...[0x01, 2, ...text('zz')],
  ...[0x02, 0x00, 0x41, 0xe8, 0x07, 0x0b, 2, ...text('hi')],
];
const wasm = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(5, [1, 0, 1]),
  ...section(7, [1, 1, ...text('m'), 2, 0]),
  ...section(11, data),
]);

describe('wasmDataImage', () => {
  it('equals the memory the engine initialises from the same module', async () => {
    const wa = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const { instance } = await wa.instantiate(wasm);
    const memory = new Uint8Array(instance.exports.m.buffer);
    const image = wasmDataImage(wasm);
    expect(image.length).toBe(65536);
    expect(sameBytes(image, memory)).toBe(true);
    expect(String.fromCharCode(...image.subarray(16, 19))).toBe('abc');
  });

  it('refuses bytes that are not a module, or a truncated one', () => {
    expect(codeOf(() => wasmDataImage(new Uint8Array(20)))).toBe('ERR_SNAPSHOT_CORRUPT');
    expect(codeOf(() => wasmDataImage(wasm.subarray(0, wasm.length - 2)))).toBe(
      'ERR_SNAPSHOT_CORRUPT',
    );
  });

  it('turns any damaged module into an image or a SnapshotError, never a crash', () => {
    const rand = prng(11);
    for (let i = 0; i < 2000; i++) {
      const bad = wasm.slice(0, 8 + randInt(rand, wasm.length - 7));
      for (let k = 0; k < 3; k++) bad[8 + randInt(rand, bad.length - 8)] = randInt(rand, 256);
      expect(codeOf(() => wasmDataImage(bad))).toMatch(/^(ok|ERR_SNAPSHOT_CORRUPT)$/);
    }
  });
});

// Node's types do not declare the WebAssembly namespace.
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
  ): Promise<{ instance: { exports: { m: { buffer: ArrayBuffer } } } }>;
}
