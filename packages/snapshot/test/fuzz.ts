// Mutations for fuzz tests: each takes a seeded PRNG so a failure reproduces from its seed.
import { HEADER_BYTES, sealDirectory, sha256, TRAILER_BYTES } from '../src/internal/format.js';
import { randInt } from './fixtures.js';

/** Offsets and widths of the header fields (see src/internal/format.ts). */
const FIELDS: [offset: number, width: 1 | 4 | 8][] = [
  [8, 4],
  [12, 4],
  [16, 8],
  [24, 8],
  [32, 8],
  [40, 8],
  [48, 4],
  [52, 4],
  [56, 1],
  [57, 1],
  [58, 1],
  [59, 1],
  [60, 4],
];
const EXTREMES = [
  0n,
  1n,
  4095n,
  4096n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  100n * 2n ** 30n,
  2n ** 64n - 1n,
];

export type Mutation = 'truncate' | 'flip' | 'header' | 'splice';
export const MUTATIONS: Mutation[] = ['truncate', 'flip', 'header', 'splice'];

/** Returns a mutated copy of `bytes`, different from it. */
export function mutate(bytes: Uint8Array, kind: Mutation, rand: () => number): Uint8Array {
  switch (kind) {
    case 'truncate':
      return bytes.slice(0, randInt(rand, bytes.length));
    case 'flip': {
      const out = bytes.slice();
      const flips = 1 + randInt(rand, 8);
      // Half of the flips land in the header and directory, where the parser is busiest.
      for (let i = 0; i < flips; i++) {
        const at =
          rand() < 0.5 ? randInt(rand, Math.min(out.length, 512)) : randInt(rand, out.length);
        out[at]! ^= 1 << randInt(rand, 8);
      }
      return out;
    }
    case 'header': {
      const out = bytes.slice();
      const v = new DataView(out.buffer);
      const [offset, width] = FIELDS[randInt(rand, FIELDS.length)]!;
      const max = 2n ** BigInt(width * 8) - 1n;
      let value =
        rand() < 0.5 ? EXTREMES[randInt(rand, EXTREMES.length)]! : BigInt(randInt(rand, 2 ** 32));
      value &= max;
      if (width === 1) v.setUint8(offset, Number(value));
      else if (width === 4) v.setUint32(offset, Number(value), true);
      else v.setBigUint64(offset, value, true);
      if (Buffer.compare(out, bytes) === 0) out[offset]! ^= 1;
      return out;
    }
    case 'splice': {
      const at = randInt(rand, bytes.length);
      const junk = new Uint8Array(1 + randInt(rand, 64)).map(() => randInt(rand, 256));
      const out = new Uint8Array(bytes.length + junk.length);
      out.set(bytes.subarray(0, at));
      out.set(junk, at);
      out.set(bytes.subarray(at), at + junk.length);
      return out;
    }
  }
}

/**
 * Recomputes the directory and file checksums after a mutation, as a careful attacker (or a
 * buggy writer) would: what is left to catch a bad file is the structural validation and the
 * heap checksum. Returns the input when its header is too broken to reseal.
 */
export function reseal(bytes: Uint8Array): Uint8Array {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) return bytes;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = HEADER_BYTES + v.getUint32(48, true) + v.getUint32(52, true) * 4;
  if (dataOffset > bytes.length - TRAILER_BYTES) return bytes;
  const out = bytes.slice();
  sealDirectory(out, { dataOffset, storedLength: out.length - TRAILER_BYTES - dataOffset });
  const end = out.length - TRAILER_BYTES;
  out.set(sha256(out.subarray(0, end)), end);
  return out;
}
