import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerFile } from './protocol.js';

// From src/ (tests, source-first) the worker is TypeScript; from dist/ it is JS. Both
// src/internal/paths.ts and the bundled dist/index.js sit one level below the package root.
const jsWorker = new URL('./worker/isolate-worker.js', import.meta.url);
const devWorker = new URL('../worker/dev-bootstrap.mjs', import.meta.url);
const workerSource = new URL('../worker/isolate-worker.ts', import.meta.url);

/** The bundled worker (null: cannot be made here, use tsx). */
let devBundle: URL | null | undefined;

/**
 * Source-first runs: the worker's TypeScript bundled once per process with esbuild into one JS
 * file under node_modules/.cache (named by its content hash, so processes share it). Running
 * the sources through tsx instead costs every isolate thread a module-hooks thread of its own:
 * ~88 MiB of RSS per isolate (measured: 150 MiB per isolate through tsx, 62 MiB bundled).
 * Undefined when esbuild is not installed or the file cannot be written (then tsx it is).
 */
function bundledDevWorker(): URL | undefined {
  if (devBundle === undefined) {
    try {
      const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
      devBundle = writeDevBundle(esbuild);
    } catch {
      // No esbuild, or a read-only checkout (a sandboxed host process): tsx it is.
      devBundle = null;
    }
  }
  return devBundle ?? undefined;
}

function writeDevBundle(esbuild: typeof import('esbuild')): URL {
  const out = esbuild.buildSync({
    entryPoints: [fileURLToPath(workerSource)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    logLevel: 'silent',
    // Our own packages are bundled from their sources (the `source` condition); Pyodide is
    // loaded from node_modules as it is.
    external: ['pyodide', 'pyodide/*'],
  });
  const code = out.outputFiles[0]!.contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  // Next to pyodide's own directory, so that `import('pyodide/...')` resolves from the file.
  const nodeModules = dirname(dirname(fileURLToPath(import.meta.resolve('pyodide'))));
  const dir = join(nodeModules, '.cache', 'pyworkers-dev');
  const file = join(dir, `isolate-worker-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}

/** Where the worker_thread entry is, and the execArgv it needs. */
export function workerEntry(): { url: URL; execArgv: string[] } {
  if (existsSync(fileURLToPath(jsWorker))) return { url: jsWorker, execArgv: [] };
  const bundled = bundledDevWorker();
  if (bundled) return { url: bundled, execArgv: [] };
  // A worker does not inherit the parent's --conditions: without `source` it would load sibling
  // packages (@pyworkers/common) from a dist/ that a source-first run never built.
  return { url: devWorker, execArgv: ['--conditions=source'] };
}

function pythonRoot(): string {
  for (const rel of ['../python/', '../../python/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}workers/__init__.py`)) return dir;
  }
  throw new Error('the pyworkers Python SDK is missing from the installed @pyworkers/isolate');
}

let sdkCache: WorkerFile[] | undefined;

/** The Python SDK files (`workers`, runtime glue) mounted into every isolate; read once. */
export function sdkFiles(): WorkerFile[] {
  if (sdkCache) return sdkCache;
  const root = pythonRoot();
  const out: WorkerFile[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(root + rel, { withFileTypes: true })) {
      const p = rel + entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== '__pycache__') walk(`${p}/`);
      } else if (entry.name.endsWith('.py')) {
        out.push({ path: p, bytes: new Uint8Array(readFileSync(root + p)) });
      }
    }
  };
  walk('');
  sdkCache = out.sort((a, b) => a.path.localeCompare(b.path));
  return sdkCache;
}
