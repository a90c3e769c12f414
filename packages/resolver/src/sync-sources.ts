// Turns an index configuration into package sources for a sync: the user's indexes in priority
// order, then Pyodide's package set; explicit indexes only for the projects pinned to them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Downloader } from './download.js';
import type { IndexConfig } from './index-config.js';
import type { Logger } from './logger.js';
import { createSource } from './package-index/create-source.js';
import { type PyodideLock, PyodideLockSource, readPyodideLock } from './pyodide-lock.js';
import type { PackageSource } from './source.js';

/** The pinned Pyodide: its lock, its package set as a source, and an identity for locks. */
export interface PinnedPyodide {
  lock: PyodideLock;
  source: PyodideLockSource;
  /** The Pyodide version, or a hash of the lock file when it does not say. */
  id: string;
}

export function loadPyodide(lockFile: string, baseUrl?: string): PinnedPyodide {
  const lock = readPyodideLock(lockFile);
  const source = new PyodideLockSource(lock, baseUrl ? { baseUrl } : {});
  const id =
    lock.version ??
    `sha256:${createHash('sha256').update(readFileSync(lockFile)).digest('hex').slice(0, 16)}`;
  return { lock, source, id };
}

/** The sources of a sync. */
export interface SyncSources {
  /** Searched for every project: the user's indexes in priority order, then Pyodide's set. */
  searched: PackageSource[];
  /** Projects pinned to one index by `[tool.uv.sources]`. */
  pinned: Map<string, PackageSource>;
  /** Every source, explicit ones included (for the lock's inputs). */
  all: PackageSource[];
  pyodide: PackageSource;
}

export function buildSources(
  config: IndexConfig,
  pyodide: PinnedPyodide,
  options: { downloader: Downloader; logger: Logger; baseDir: string },
): SyncSources {
  const make = (d: { name: string; url: string }) =>
    createSource(d.url, {
      name: d.name,
      downloader: options.downloader,
      logger: options.logger,
      baseDir: options.baseDir,
    });
  const searched = config.indexes.map(make);
  const explicit = config.explicit.map(make);
  const byName = new Map<string, PackageSource>();
  for (const [i, d] of config.indexes.entries()) byName.set(d.name, searched[i]!);
  for (const [i, d] of config.explicit.entries()) byName.set(d.name, explicit[i]!);
  const pinned = new Map<string, PackageSource>();
  for (const [pkg, index] of config.pins) pinned.set(pkg, byName.get(index)!);
  searched.push(pyodide.source);
  return { searched, pinned, all: [...searched, ...explicit], pyodide: pyodide.source };
}
