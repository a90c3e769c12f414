import zlib from 'node:zlib';

// zlib.crc32 is native (Node >= 20.15); older Node 20 releases get a table-driven fallback.
const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
let table: Uint32Array | undefined;

function slowCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 (IEEE, as zlib and gzip compute it). */
export function crc32(data: Uint8Array): number {
  return typeof native === 'function' ? native(data) >>> 0 : slowCrc32(data);
}

export const crc32Fallback = slowCrc32;
