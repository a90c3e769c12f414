// Packages a pyworkers worker never installs because the runtime itself provides them.
import { normalizeName } from './requirement.js';

/**
 * Cloudflare's Python SDK packages, as Cloudflare's projects list them: `workers-runtime-sdk`
 * is the `workers` module, which the pyworkers runtime ships in every isolate; `workers-py`
 * is Cloudflare's CLI (pywrangler), a development tool with nothing to run in a worker. A
 * requirement on either, direct or from another package, is satisfied without an index.
 */
export const RUNTIME_PROVIDED: ReadonlySet<string> = new Set(['workers-runtime-sdk', 'workers-py']);

/** Whether the runtime provides the project `name` (any spelling: `workers_py`, `Workers.Py`). */
export function isRuntimeProvided(name: string): boolean {
  return RUNTIME_PROVIDED.has(normalizeName(name));
}
