import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerFile } from './protocol.js';

// From src/ (tests, source-first) the worker is TypeScript and needs tsx; from dist/ it is JS.
// Both src/internal/paths.ts and the bundled dist/index.js sit one level below the package root.
const jsWorker = new URL('./worker/isolate-worker.js', import.meta.url);
const devWorker = new URL('../worker/dev-bootstrap.mjs', import.meta.url);

/** Where the worker_thread entry is, and the execArgv it needs. */
export function workerEntry(): { url: URL; execArgv: string[] } {
  if (existsSync(fileURLToPath(jsWorker))) return { url: jsWorker, execArgv: [] };
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
