import { createHash } from 'node:crypto';
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
/** Version of the bundle file format. */
export const BUNDLE_FORMAT_VERSION = 1;

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

/** Serialises a bundle into one file's bytes. */
export function encodeBundle(
  bundle: Omit<Bundle, 'manifest'> & { manifest: Omit<BundleManifest, 'files' | 'snapshot'> },
): Uint8Array {
  let offset = 0;
  const files = [...bundle.files].map(([path, bytes]) => {
    const entry = { path, offset, size: bytes.length, sha256: sha256(bytes) };
    offset += bytes.length;
    return entry;
  });
  const snapshot = bundle.snapshot ? { offset, size: bundle.snapshot.length } : null;
  const manifest: BundleManifest = { ...bundle.manifest, files, snapshot };
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  const dataBytes = offset + (bundle.snapshot?.length ?? 0);
  const out = new Uint8Array(MAGIC.length + 8 + json.length + dataBytes);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(MAGIC.length, BUNDLE_FORMAT_VERSION, true);
  view.setUint32(MAGIC.length + 4, json.length, true);
  out.set(json, MAGIC.length + 8);
  const base = MAGIC.length + 8 + json.length;
  for (const f of files) out.set(bundle.files.get(f.path)!, base + f.offset);
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
  if (version !== BUNDLE_FORMAT_VERSION) {
    throw new IsolateError(
      'ERR_BUNDLE_VERSION',
      `${source}: bundle format ${version} is not supported (expected ${BUNDLE_FORMAT_VERSION}); rebuild it`,
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
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const data = slice(f.offset, f.size);
    if (sha256(data) !== f.sha256) throw bad(`file ${f.path} does not match its hash`);
    files.set(f.path, data);
  }
  const snapshot = manifest.snapshot
    ? slice(manifest.snapshot.offset, manifest.snapshot.size)
    : null;
  return { manifest, files, snapshot };
}
