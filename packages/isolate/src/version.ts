import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IsolateError } from './errors.js';

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

let buildId: string | undefined;
/**
 * The build id the pinned Pyodide stamps into its snapshots (`BUILD_ID` in pyodide.mjs). The
 * restore path writes heaps itself, bypassing Pyodide's own check, so loaders compare it.
 */
export function pyodideBuildId(): string {
  if (buildId) return buildId;
  const source = readFileSync(fileURLToPath(import.meta.resolve('pyodide/pyodide.mjs')), 'utf8');
  const found = /BUILD_ID:"([0-9a-f]{64})"/.exec(source)?.[1];
  if (!found) {
    throw new IsolateError(
      'ERR_ISOLATE_PYODIDE_VERSION',
      `no BUILD_ID in pyodide.mjs of Pyodide ${PYODIDE_VERSION}`,
    );
  }
  buildId = found;
  return found;
}
