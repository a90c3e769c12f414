import { formatIssues } from '@pyworkers/common';
import { z } from 'zod';
import { SnapshotError } from './errors.js';

/** A dynamic library loaded into the interpreter when the snapshot was taken. */
export const loadedLibrarySchema = z.object({
  path: z.string(),
  memoryBase: z.number().int().nonnegative(),
  tableBase: z.number().int().nonnegative(),
});

/** Metadata stored in every snapshot container, validated on decode. */
export const snapshotMetaSchema = z.object({
  /** The `pyodide` npm version the snapshot was made with; a restore must use the same. */
  pyodideVersion: z.string().min(1),
  /** Pyodide's build id (64 hex digits), checked by `loadPyodide` on restore. */
  pyodideBuildId: z.string().min(1),
  pythonVersion: z.string().min(1),
  /** `baseline`: a bare interpreter; `dedicated`: one worker's top level run on top of it. */
  kind: z.enum(['baseline', 'dedicated']),
  /** Heap length in bytes; must equal the heap given to `encodeSnapshot`. */
  heapSize: z.number().int().nonnegative(),
  /** WebAssembly memory page size the heap grows by (65536); the page table uses 4 KiB pages. */
  pageSize: z.number().int().positive(),
  /** `PYTHONHASHSEED` the interpreter ran with, or null when random (deltas need equal seeds). */
  hashSeed: z.number().int().nonnegative().nullable(),
  importedModules: z.array(z.string()),
  loadedLibraries: z.array(loadedLibrarySchema),
  /** Pyodide's JS-reference table (`hiwireKeys`/`immortalKeys`) needed on restore. */
  jsRefs: z.record(z.string(), z.unknown()),
  app: z.record(z.string(), z.unknown()),
});

/** Metadata of a snapshot. */
export type SnapshotMeta = z.infer<typeof snapshotMetaSchema>;

/** Parses untrusted metadata, turning a zod failure into a readable {@link SnapshotError}. */
export function parseSnapshotMeta(value: unknown): SnapshotMeta {
  const result = snapshotMetaSchema.safeParse(value);
  if (!result.success) {
    const issues = formatIssues(result.error.issues);
    throw new SnapshotError('ERR_SNAPSHOT_META', `snapshot metadata is invalid: ${issues}`);
  }
  return result.data;
}
