import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// From src/ (tests, source-first) the host process is TypeScript and starts through tsx, with
// the `source` condition so that sibling packages resolve to their src/ too; from dist/ it is
// plain JS. Both src/internal/paths.ts and the bundled dist/index.js sit one level below the
// package root.
const jsHost = new URL('./host/host-process.js', import.meta.url);
const devHost = new URL('../host/dev-bootstrap.mjs', import.meta.url);

/**
 * V8 flags of a host process. Its main thread's young generation capped at 1 MiB semi-spaces
 * (V8's default grows them to 8-16 MiB while the host loads its modules and the baseline, pages
 * it keeps until its memory reducer runs ~8 s after the host went quiet): ~10 MiB less RSS per
 * host after a cold start, ~20 MiB less once the pool refilled. Warm requests reach the isolate
 * threads over lanes, not through this thread, and each isolate thread sets its own young
 * generation (`resourceLimits`), so neither pays for the smaller one (router README, "HTTP":
 * session 13).
 */
const HOST_V8_FLAGS = ['--max-semi-space-size=1'];

/** The child-process host entry, and the execArgv it needs. */
export function hostEntry(): { path: string; execArgv: string[] } {
  const js = fileURLToPath(jsHost);
  if (existsSync(js)) return { path: js, execArgv: [...HOST_V8_FLAGS] };
  return { path: fileURLToPath(devHost), execArgv: ['--conditions=source', ...HOST_V8_FLAGS] };
}
