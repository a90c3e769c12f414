// Word-at-a-time page arithmetic for the delta codec. The buffers involved sit at any byte offset
// (a container's data section follows its metadata), so a typed-array view of 32-bit words is
// rarely possible on them directly: each chunk is first copied (a native memcpy) into scratch
// words, then worked on there. A byte loop over a 5 MiB delta took ~20 ms; this takes ~4.

const CHUNK_WORDS = 16384; // 64 KiB
const scratchA = new Int32Array(CHUNK_WORDS);
const scratchB = new Int32Array(CHUNK_WORDS);
const bytesA = new Uint8Array(scratchA.buffer);
const bytesB = new Uint8Array(scratchB.buffer);

/** Writes `a[aAt + i] ^ b[bAt + i]` for i in [0, n) to `out` from `outAt`. */
export function xorBytes(
  out: Uint8Array,
  outAt: number,
  a: Uint8Array,
  aAt: number,
  b: Uint8Array,
  bAt: number,
  n: number,
): void {
  for (let done = 0; done < n; done += bytesA.length) {
    const len = Math.min(bytesA.length, n - done);
    bytesA.set(a.subarray(aAt + done, aAt + done + len));
    bytesB.set(b.subarray(bAt + done, bAt + done + len));
    const words = len >>> 2;
    for (let w = 0; w < words; w++) scratchA[w]! ^= scratchB[w]!;
    for (let i = words * 4; i < len; i++) bytesA[i] = bytesA[i]! ^ bytesB[i]!;
    out.set(bytesA.subarray(0, len), outAt + done);
  }
}

/** How many aligned 4-byte words of `a` and `b` (equal lengths, at most 64 KiB) are equal. */
export function equalWords(a: Uint8Array, b: Uint8Array): number {
  const len = Math.min(a.length, bytesA.length);
  bytesA.set(a.subarray(0, len));
  bytesB.set(b.subarray(0, len));
  let same = 0;
  const words = len >>> 2;
  for (let w = 0; w < words; w++) if (scratchA[w] === scratchB[w]) same++;
  return same;
}
