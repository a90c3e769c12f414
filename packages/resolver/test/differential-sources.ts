// Shared helpers of the integration tests: the pinned Pyodide's lock info and the index client
// a test resolves through.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Downloader } from '../src/download.js';
import type { PyodideLockInfo } from '../src/markers.js';
import { SimpleIndexSource } from '../src/package-index/simple-index.js';
import type { PackageSource } from '../src/source.js';

export const PYODIDE_LOCK_FILE = createRequire(import.meta.url).resolve(
  'pyodide/pyodide-lock.json',
);

export function pyodideLockInfo(): PyodideLockInfo {
  return (JSON.parse(readFileSync(PYODIDE_LOCK_FILE, 'utf8')) as { info: PyodideLockInfo }).info;
}

/** The real index client for a test index, caching downloads under `cacheDir`. */
export function resolverSourcesFor(indexUrl: string, cacheDir: string): PackageSource[] {
  return [
    new SimpleIndexSource({
      url: indexUrl,
      name: 'fixture',
      downloader: new Downloader({ cacheDir }),
    }),
  ];
}
