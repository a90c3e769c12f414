import { describe, expect, it } from 'vitest';
import { derivedHeap, metaFor, prng, sameBytes, syntheticHeap } from '../test/fixtures.js';
import { MUTATIONS, mutate, reseal } from '../test/fuzz.js';
import { availableCodecs } from './codecs.js';
import { decodeSnapshot } from './decode.js';
import { encodeSnapshot } from './encode.js';
import { SnapshotError } from './errors.js';
import { inspectSnapshot } from './inspect.js';

const ROUNDS = 100;
const base = syntheticHeap(384 * 1024 + 1000, 5);
const dedicated = derivedHeap(base, 6);

/**
 * Decodes mutated bytes: it must end in a SnapshotError or give back exactly the original heap
 * (a resealed edit of a field that does not change the heap, such as the metadata, is valid).
 */
function check(
  bytes: Uint8Array,
  heap: Uint8Array,
  reference: Uint8Array | undefined,
  verify: 'full' | 'crc32' | 'none' = 'full',
): string {
  try {
    inspectSnapshot(bytes);
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
  }
  try {
    const out = decodeSnapshot(bytes, { verify, ...(reference ? { reference } : {}) });
    if (!sameBytes(out.heap, heap)) return 'WRONG HEAP';
    return 'same heap';
  } catch (e) {
    if (e instanceof SnapshotError) return e.code;
    return `CRASH ${(e as Error)?.stack ?? String(e)}`;
  }
}

const cases = availableCodecs().flatMap((codec) => [
  { name: `${codec}`, codec, heap: base, reference: undefined },
  { name: `${codec} delta`, codec, heap: dedicated, reference: base },
]);

describe.each(cases)('fuzzing a $name snapshot', ({ codec, heap, reference }) => {
  const bytes = encodeSnapshot(heap, metaFor(heap), {
    codec,
    ...(reference ? { reference } : {}),
  });

  it.each(MUTATIONS)('%s always ends in a SnapshotError', (kind) => {
    const rand = prng(0x5eed + kind.length);
    const seen = new Map<string, number>();
    for (let i = 0; i < ROUNDS; i++) {
      const result = check(mutate(bytes, kind, rand), heap, reference);
      expect(result, `${kind} round ${i}`).toMatch(/^ERR_SNAPSHOT_/);
      seen.set(result, (seen.get(result) ?? 0) + 1);
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it.each(MUTATIONS)(
    '%s with checksums recomputed never crashes or yields a wrong heap',
    (kind) => {
      const rand = prng(0xbad + kind.length);
      for (let i = 0; i < ROUNDS; i++) {
        const result = check(reseal(mutate(bytes, kind, rand)), heap, reference);
        expect(result, `${kind} round ${i}`).toMatch(/^(ERR_SNAPSHOT_|same heap$)/);
      }
    },
  );

  it.each(MUTATIONS)('%s with verify none never crashes, hangs or over-allocates', (kind) => {
    const rand = prng(0xf00 + kind.length);
    for (let i = 0; i < ROUNDS; i++) {
      const result = check(mutate(bytes, kind, rand), heap, reference, 'none');
      expect(result, `${kind} round ${i}`).toMatch(/^(ERR_SNAPSHOT_|same heap$|WRONG HEAP$)/);
    }
  });

  it.each(MUTATIONS)('%s with verify crc32 always ends in a SnapshotError', (kind) => {
    const rand = prng(0xc7c + kind.length);
    for (let i = 0; i < ROUNDS; i++) {
      const result = check(mutate(bytes, kind, rand), heap, reference, 'crc32');
      expect(result, `${kind} round ${i}`).toMatch(/^ERR_SNAPSHOT_/);
    }
  });
});
