import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The pinned Pyodide version every isolate runs. */
export const PYODIDE_VERSION: string = JSON.parse(
  readFileSync(new URL(import.meta.resolve('pyodide/package.json')), 'utf8'),
).version;

/**
 * Path of the pinned Pyodide's `pyodide-lock.json`: its package set (names, versions, files,
 * SHA-256) is a package source for the resolver.
 */
export const PYODIDE_LOCK_FILE: string = fileURLToPath(
  import.meta.resolve('pyodide/pyodide-lock.json'),
);

/** Version of the Python SDK shipped in this package. */
export const SDK_VERSION = '0.0.0';
