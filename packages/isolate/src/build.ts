import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeSnapshot, fromPyodideSnapshot } from '@pyworkers/snapshot';
import { type Bundle, decodeBundle, encodeBundle } from './bundle.js';
import { IsolateError } from './errors.js';
import { sdkFiles } from './internal/paths.js';
import { bundleFiles, spawnWorker } from './isolate.js';
import { type Logger, silentLogger } from './logger.js';

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

/** What a build needs to know about a worker. */
export interface BuildInput {
  name: string;
  /** Python module name of the entry point. */
  mainModule: string;
  /** Source files by path relative to the worker's root (e.g. `entry.py`, vendored packages). */
  files: Map<string, Uint8Array>;
  vars: Record<string, string>;
}

/** Options of {@link buildBundle}. */
export interface BuildOptions {
  /** Take a dedicated memory snapshot after the top level ran (default true). */
  snapshot?: boolean;
  logger?: Logger;
}

/**
 * Builds a bundle: runs the worker's top level once in a fresh isolate and snapshots its memory.
 * @example const bytes = await buildBundle({ name, mainModule: 'entry', files, vars: {} });
 */
export async function buildBundle(
  input: BuildInput,
  options: BuildOptions = {},
): Promise<Uint8Array> {
  const logger = options.logger ?? silentLogger;
  const manifest = {
    name: input.name,
    mainModule: input.mainModule,
    pyodideVersion: PYODIDE_VERSION,
    sdkVersion: SDK_VERSION,
    vars: input.vars,
  };
  let snapshot: Uint8Array | null = null;
  if (options.snapshot !== false) {
    const draft: Bundle = {
      manifest: { ...manifest, files: [], snapshot: null },
      files: input.files,
      snapshot: null,
    };
    const { worker, first } = spawnWorker(
      {
        type: 'init',
        mode: 'snapshot',
        name: input.name,
        mainModule: input.mainModule,
        files: bundleFiles(draft),
        sdkFiles: sdkFiles(),
      },
      logger,
      () => {},
    );
    try {
      const msg = await first;
      if (msg.type !== 'snapshot') {
        const detail = msg.type === 'error' ? (msg.traceback ?? msg.message) : msg.type;
        throw new IsolateError(
          'ERR_ISOLATE_SNAPSHOT',
          `running the top level of ${input.name} failed:\n${detail}`,
          {
            userError: msg.type === 'error' && msg.userError,
          },
        );
      }
      const parts = fromPyodideSnapshot(msg.bytes);
      snapshot = encodeSnapshot(parts.heap, {
        pyodideVersion: PYODIDE_VERSION,
        pyodideBuildId: parts.buildId,
        pythonVersion: msg.pythonVersion,
        kind: 'dedicated',
        heapSize: parts.heap.length,
        pageSize: 65536,
        hashSeed: null,
        importedModules: msg.importedModules,
        loadedLibraries: [],
        jsRefs: parts.jsRefs,
        app: { worker: input.name },
      });
    } finally {
      await worker.terminate();
    }
  }
  return encodeBundle({ manifest, files: input.files, snapshot });
}

export { decodeBundle };
