import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { formatIssues } from '@pyworkers/common';
import { z } from 'zod';
import {
  assetsConfigSchema,
  bindingDeclarationSchema,
  durableObjectsConfigSchema,
  queueConsumerSchema,
} from './bindings.js';
import { IsolateError } from './errors.js';

const MAGIC = new TextEncoder().encode('PYWBNDL\0');

/**
 * Whether `bytes` start like a bundle (its magic bytes), to tell a `.pwb` from a bare snapshot
 * before decoding either.
 */
export function isBundle(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}
/**
 * Version of the bundle file format. 2: the files region may be one brotli stream (the sources
 * of a Flask + requests app shrink from 3.5 to 0.8 MiB). Format 1 bundles still load.
 */
export const BUNDLE_FORMAT_VERSION = 2;
const READABLE_FORMATS = new Set([1, 2]);

/** How a bundle's files region is stored: `brotli` for bundles that are copied around. */
export type BundleFilesCodec = 'none' | 'brotli';
/** Largest files region a bundle may declare (decompression stops there). */
const MAX_FILES_BYTES = 1 << 30;

const fileEntrySchema = z.object({
  path: z.string().min(1),
  offset: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** The manifest at the head of every bundle. */
export const bundleManifestSchema = z.object({
  name: z.string().min(1),
  /** Python module name of the entry point, e.g. `entry` for `src/entry.py`. */
  mainModule: z.string().min(1),
  pyodideVersion: z.string(),
  sdkVersion: z.string(),
  vars: z.record(z.string(), z.string()),
  /** The worker's own limits (from its config); they override the launcher's defaults. */
  limits: z
    .object({
      requestTimeoutMs: z.number().int().positive().optional(),
      memoryBytes: z.number().int().positive().optional(),
    })
    .strict()
    .optional(),
  /** Bindings in the worker's env (names, types, ids; never secrets). */
  bindings: z.array(bindingDeclarationSchema).optional(),
  /** Cron expressions that call the worker's `scheduled` handler. */
  crons: z.array(z.string().min(1)).optional(),
  /** Queues whose batches go to the worker's `queue` handler. */
  queueConsumers: z.array(queueConsumerSchema).optional(),
  /** Static assets the router serves for the worker. */
  assets: assetsConfigSchema.optional(),
  /** Durable Object classes the worker defines and their migrations. */
  durableObjects: durableObjectsConfigSchema.optional(),
  files: z.array(fileEntrySchema),
  /**
   * Format 2: how the files region is stored. File offsets are into the decoded region; `size`
   * is the stored length, `rawSize` the decoded one. Absent: stored as is (format 1).
   */
  filesRegion: z
    .object({
      codec: z.enum(['none', 'brotli']),
      size: z.number().int().nonnegative(),
      rawSize: z.number().int().nonnegative().max(MAX_FILES_BYTES),
    })
    .optional(),
  snapshot: z
    .object({ offset: z.number().int().nonnegative(), size: z.number().int().nonnegative() })
    .nullable(),
});

/** A bundle's manifest. */
export type BundleManifest = z.infer<typeof bundleManifestSchema>;

/** A worker ready to run: manifest, source files and the encoded snapshot. */
export interface Bundle {
  manifest: BundleManifest;
  files: Map<string, Uint8Array>;
  /** An encoded `@pyworkers/snapshot` container, when the build made one. */
  snapshot: Uint8Array | null;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** How {@link encodeBundle} stores the files. */
export interface EncodeBundleOptions {
  /**
   * `brotli` (default): the files region is one brotli-5 stream, decoded once when the bundle
   * is loaded (~20 ms for 3.5 MiB of sources). `none`: stored as is (bundles served where they
   * are built, and tests that look for bytes in the file).
   */
  filesCodec?: BundleFilesCodec;
  /** Brotli level of the files region (default 5). */
  filesLevel?: number;
}

/** The files' bytes one after another, with their entries (offsets into that region). */
function filesRegionOf(files: Map<string, Uint8Array>): {
  entries: BundleManifest['files'];
  raw: Uint8Array;
} {
  let offset = 0;
  const entries = [...files].map(([path, bytes]) => {
    const entry = { path, offset, size: bytes.length, sha256: sha256(bytes) };
    offset += bytes.length;
    return entry;
  });
  const raw = new Uint8Array(offset);
  for (const f of entries) raw.set(files.get(f.path)!, f.offset);
  return { entries, raw };
}

/** Serialises a bundle into one file's bytes. */
export function encodeBundle(
  bundle: Omit<Bundle, 'manifest'> & {
    manifest: Omit<BundleManifest, 'files' | 'snapshot' | 'filesRegion'>;
  },
  options: EncodeBundleOptions = {},
): Uint8Array {
  const { entries, raw } = filesRegionOf(bundle.files);
  const codec = options.filesCodec ?? 'brotli';
  const stored =
    codec === 'brotli' && raw.length > 0
      ? brotliCompressSync(raw, {
          params: {
            // Level 5: 3.5 MiB of Flask + requests sources to 0.82 MiB, against 0.78 MiB at
            // level 9 for 4-7x the time (0.3 vs 1.1 s on this box).
            [zlibConstants.BROTLI_PARAM_QUALITY]: options.filesLevel ?? 5,
            [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length,
            [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
          },
        })
      : raw;
  const filesRegion = {
    codec: stored === raw ? ('none' as const) : ('brotli' as const),
    size: stored.length,
    rawSize: raw.length,
  };
  const snapshot = bundle.snapshot ? { offset: stored.length, size: bundle.snapshot.length } : null;
  const manifest: BundleManifest = { ...bundle.manifest, files: entries, filesRegion, snapshot };
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  const dataBytes = stored.length + (bundle.snapshot?.length ?? 0);
  const out = new Uint8Array(MAGIC.length + 8 + json.length + dataBytes);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(MAGIC.length, BUNDLE_FORMAT_VERSION, true);
  view.setUint32(MAGIC.length + 4, json.length, true);
  out.set(json, MAGIC.length + 8);
  const base = MAGIC.length + 8 + json.length;
  out.set(stored, base);
  if (bundle.snapshot && snapshot) out.set(bundle.snapshot, base + snapshot.offset);
  return out;
}

/** Reads and verifies a bundle; every file is checked against its hash. Views, no copies. */
export function decodeBundle(bytes: Uint8Array, source = 'bundle'): Bundle {
  const bad = (msg: string): IsolateError =>
    new IsolateError('ERR_BUNDLE_INVALID', `${source}: ${msg}`, { userError: true });
  if (bytes.length < MAGIC.length + 8 || !MAGIC.every((b, i) => bytes[i] === b))
    throw bad('not a pyworkers bundle');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(MAGIC.length, true);
  if (!READABLE_FORMATS.has(version)) {
    throw new IsolateError(
      'ERR_BUNDLE_VERSION',
      `${source}: bundle format ${version} is not supported (this runtime reads ${[...READABLE_FORMATS].join(' and ')}); rebuild it`,
      { userError: true },
    );
  }
  const jsonLength = view.getUint32(MAGIC.length + 4, true);
  const base = MAGIC.length + 8 + jsonLength;
  if (base > bytes.length) throw bad('truncated manifest');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 8, base)));
  } catch (cause) {
    throw new IsolateError('ERR_BUNDLE_INVALID', `${source}: manifest is not JSON`, {
      cause,
      userError: true,
    });
  }
  const parsed = bundleManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw bad(`manifest is invalid (${formatIssues(parsed.error.issues, { root: 'manifest' })})`);
  const manifest = parsed.data;
  const slice = (offset: number, size: number): Uint8Array => {
    if (base + offset + size > bytes.length) throw bad('truncated data');
    return bytes.subarray(base + offset, base + offset + size);
  };
  const region = filesRegion(manifest, slice, bad, source);
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    if (f.offset + f.size > region.length) throw bad(`file ${f.path} lies past the files region`);
    const data = region.subarray(f.offset, f.offset + f.size);
    if (sha256(data) !== f.sha256) throw bad(`file ${f.path} does not match its hash`);
    files.set(f.path, data);
  }
  const snapshot = manifest.snapshot
    ? slice(manifest.snapshot.offset, manifest.snapshot.size)
    : null;
  return { manifest, files, snapshot };
}

/** The decoded files region of a bundle (format 1: the stored bytes up to the last file's end). */
function filesRegion(
  manifest: BundleManifest,
  slice: (offset: number, size: number) => Uint8Array,
  bad: (msg: string) => IsolateError,
  source: string,
): Uint8Array {
  const spec = manifest.filesRegion;
  if (!spec) {
    const end = manifest.files.reduce((m, f) => Math.max(m, f.offset + f.size), 0);
    return slice(0, end);
  }
  const stored = slice(0, spec.size);
  if (spec.codec === 'none') return stored;
  let raw: Uint8Array;
  try {
    // A region that decodes to more than it declares is refused, not inflated.
    raw = brotliDecompressSync(stored, { maxOutputLength: Math.max(1, spec.rawSize) });
  } catch (cause) {
    throw new IsolateError(
      'ERR_BUNDLE_INVALID',
      `${source}: the files region does not decode (${(cause as Error).message}); rebuild the bundle`,
      { cause, userError: true },
    );
  }
  if (raw.length !== spec.rawSize) {
    throw bad(`the files region decodes to ${raw.length} bytes, the manifest says ${spec.rawSize}`);
  }
  return raw;
}
