import { SnapshotError } from './errors.js';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const DATA_SECTION = 11;
const WASM_PAGE = 65536;
/** Static data past this is implausible (Pyodide 314: 3.8 MB); refuse before allocating. */
const MAX_IMAGE_BYTES = 64 * 1024 ** 2;

function bad(message: string): SnapshotError {
  return new SnapshotError('ERR_SNAPSHOT_CORRUPT', `not a usable WebAssembly module: ${message}`);
}

class Reader {
  constructor(
    readonly b: Uint8Array,
    public p = 0,
  ) {}
  byte(): number {
    if (this.p >= this.b.length) throw bad('unexpected end');
    return this.b[this.p++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) throw bad('LEB128 value over 32 bits');
        return result;
      }
    }
    throw bad('LEB128 value too long');
  }
  i32(): number {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.byte();
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80 && shift < 35);
    if (byte & 0x80) throw bad('LEB128 value too long');
    if (shift < 32 && byte & 0x40) result |= -1 << shift;
    return result;
  }
}

/** Reads a constant offset expression; undefined when it is not `i32.const N; end`. */
function offsetExpr(r: Reader): number | undefined {
  const op = r.byte();
  let value: number | undefined;
  if (op === 0x41) value = r.i32() >>> 0;
  // Anything else (global.get of __memory_base, ...) has no address known before instantiation.
  while (r.byte() !== 0x0b) {
    /* skip to the end of the expression */
  }
  return op === 0x41 ? value : undefined;
}

/**
 * The initial linear memory a WebAssembly module's active data segments write (e.g. Pyodide's
 * `pyodide.asm.wasm`), sized to whole 64 KiB pages. Much of a Pyodide heap still holds these
 * bytes, and every host has the module, so it makes a reference that shrinks even a baseline
 * snapshot: `encodeSnapshot(heap, meta, { reference: wasmDataImage(wasm) })`.
 * @example
 * const image = snapshotReference(wasmDataImage(readFileSync(require.resolve('pyodide/pyodide.asm.wasm'))));
 */
export function wasmDataImage(wasm: Uint8Array): Uint8Array {
  if (wasm.length < 8 || WASM_MAGIC.some((b, i) => wasm[i] !== b)) throw bad('bad magic');
  const r = new Reader(wasm, 8);
  const segments: [offset: number, start: number, end: number][] = [];
  while (r.p < wasm.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.p + size;
    if (end > wasm.length) throw bad('a section runs past the end');
    if (id === DATA_SECTION) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const flags = r.u32();
        let offset: number | undefined;
        if (flags === 0) offset = offsetExpr(r);
        else if (flags === 2) {
          const memory = r.u32();
          offset = offsetExpr(r);
          if (memory !== 0) offset = undefined;
        } else if (flags !== 1) throw bad(`data segment flags ${flags}`);
        const length = r.u32();
        if (r.p + length > end) throw bad('a data segment runs past its section');
        if (offset !== undefined) segments.push([offset, r.p, r.p + length]);
        r.p += length;
      }
    }
    r.p = end;
  }
  const top = segments.reduce((m, [o, s, e]) => Math.max(m, o + e - s), 0);
  if (top > MAX_IMAGE_BYTES) throw bad(`data segments reach ${top} bytes`);
  const image = new Uint8Array(Math.ceil(top / WASM_PAGE) * WASM_PAGE);
  for (const [o, s, e] of segments) image.set(wasm.subarray(s, e), o);
  return image;
}
