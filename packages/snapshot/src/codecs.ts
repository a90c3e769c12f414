import zlib from 'node:zlib';
import { SnapshotError } from './errors.js';

/** Compression codecs of a container's data section. */
export const SNAPSHOT_CODECS = ['none', 'gzip', 'brotli', 'zstd'] as const;

/** Name of a compression codec. `zstd` works only where Node's zlib has it (Node >= 22.15). */
export type SnapshotCodec = (typeof SNAPSHOT_CODECS)[number];

/** Codec ids as stored in the header: never renumber, only append. */
export const CODEC_IDS: Record<SnapshotCodec, number> = { none: 0, gzip: 1, brotli: 2, zstd: 3 };

// Node 20's types do not know zstd yet; feature-detect it at run time.
interface ZstdZlib {
  zstdCompressSync?: (buf: Uint8Array, options?: object) => Buffer;
  zstdDecompressSync?: (buf: Uint8Array, options?: object) => Buffer;
  constants: Record<string, number>;
}
const zstdZlib = zlib as unknown as ZstdZlib;

/** Whether this Node build can encode and decode `codec`. */
export function isCodecAvailable(codec: SnapshotCodec): boolean {
  if (codec !== 'zstd') return true;
  return (
    typeof zstdZlib.zstdCompressSync === 'function' &&
    typeof zstdZlib.zstdDecompressSync === 'function'
  );
}

/** Codecs this Node build can encode and decode. */
export function availableCodecs(): SnapshotCodec[] {
  return SNAPSHOT_CODECS.filter(isCodecAvailable);
}

export function codecFromId(id: number): SnapshotCodec | undefined {
  return SNAPSHOT_CODECS.find((c) => CODEC_IDS[c] === id);
}

export function assertCodecAvailable(codec: SnapshotCodec): void {
  if (!isCodecAvailable(codec)) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CODEC',
      `codec "${codec}" is not available in Node ${process.versions.node} (zlib.zstdCompressSync is missing; it needs Node >= 22.15); use "brotli" or "gzip", or run on a newer Node`,
    );
  }
}

/**
 * Default levels: gzip 6 (level 9 saves 0.1% of the heap for 3x the time); brotli 9 and zstd 19
 * favour shipped size over encode time (see the README's benchmark).
 */
export const DEFAULT_LEVELS: Record<Exclude<SnapshotCodec, 'none'>, number> = {
  gzip: 6,
  brotli: 9,
  zstd: 19,
};

const LEVEL_RANGES: Record<Exclude<SnapshotCodec, 'none'>, [number, number]> = {
  gzip: [0, 9],
  brotli: [0, 11],
  zstd: [1, 22],
};

// Buffers from zlib are Uint8Array subclasses; hand out plain views so callers compare cleanly.
function plain(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Compresses `data` with `codec` at `level` (the codec's default when omitted). */
export function compress(codec: SnapshotCodec, data: Uint8Array, level?: number): Uint8Array {
  assertCodecAvailable(codec);
  if (codec === 'none') return data;
  const [min, max] = LEVEL_RANGES[codec];
  const lvl = level ?? DEFAULT_LEVELS[codec];
  if (!Number.isInteger(lvl) || lvl < min || lvl > max) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CODEC',
      `level ${lvl} is out of range for ${codec}: use an integer from ${min} to ${max}`,
    );
  }
  switch (codec) {
    case 'gzip':
      return plain(zlib.gzipSync(data, { level: lvl, memLevel: 9 }));
    case 'brotli':
      return plain(
        zlib.brotliCompressSync(data, {
          params: {
            [zlib.constants.BROTLI_PARAM_QUALITY]: lvl,
            // A 16 MiB window sees repeats across the whole non-zero part of a 30 MiB heap.
            [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
            [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        }),
      );
    case 'zstd': {
      const c = zstdZlib.constants;
      return plain(
        zstdZlib.zstdCompressSync!(data, {
          params: { [c.ZSTD_c_compressionLevel!]: lvl },
        }),
      );
    }
  }
}

/**
 * Decompresses exactly `expectedLength` bytes. More output is refused while decompressing
 * (no decompression bomb can allocate past it), less is a corrupt snapshot.
 */
export function decompress(
  codec: SnapshotCodec,
  data: Uint8Array,
  expectedLength: number,
): Uint8Array {
  assertCodecAvailable(codec);
  if (codec === 'none') {
    if (data.length !== expectedLength) {
      throw new SnapshotError(
        'ERR_SNAPSHOT_CORRUPT',
        `the data section holds ${data.length} bytes, expected ${expectedLength}`,
      );
    }
    return data;
  }
  // zlib refuses a zero maxOutputLength.
  const maxOutputLength = Math.max(1, expectedLength);
  let out: Buffer;
  try {
    switch (codec) {
      case 'gzip':
        out = zlib.gunzipSync(data, { maxOutputLength });
        break;
      case 'brotli':
        out = zlib.brotliDecompressSync(data, { maxOutputLength });
        break;
      case 'zstd':
        out = zstdZlib.zstdDecompressSync!(data, { maxOutputLength });
        break;
    }
  } catch (cause) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CORRUPT',
      `the ${codec} data section does not decompress to ${expectedLength} bytes`,
      { cause },
    );
  }
  if (out.length !== expectedLength) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_CORRUPT',
      `the ${codec} data section decompressed to ${out.length} bytes, expected ${expectedLength}`,
    );
  }
  return plain(out);
}
