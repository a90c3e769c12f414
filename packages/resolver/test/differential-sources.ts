// Shared helpers of the integration tests: the pinned Pyodide's lock info and the sources a
// test resolves from.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { PyodideLockInfo } from '../src/markers.js';
import { MemorySource } from '../src/resolve/memory-source.js';
import type { PackageSource } from '../src/source.js';
import { CATALOGUE } from './fixtures/index.js';

export const PYODIDE_LOCK_FILE = createRequire(import.meta.url).resolve(
  'pyodide/pyodide-lock.json',
);

export function pyodideLockInfo(): PyodideLockInfo {
  return (JSON.parse(readFileSync(PYODIDE_LOCK_FILE, 'utf8')) as { info: PyodideLockInfo }).info;
}

export function resolverSourcesFor(_indexUrl: string): PackageSource[] {
  return [new MemorySource('catalogue', CATALOGUE)];
}
