import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// From src/ (tests, source-first) the host process is TypeScript and starts through tsx, with
// the `source` condition so that sibling packages resolve to their src/ too; from dist/ it is
// plain JS. Both src/internal/paths.ts and the bundled dist/index.js sit one level below the
// package root.
const jsHost = new URL('./host/host-process.js', import.meta.url);
const devHost = new URL('../host/dev-bootstrap.mjs', import.meta.url);

/** The child-process host entry, and the execArgv it needs. */
export function hostEntry(): { path: string; execArgv: string[] } {
  const js = fileURLToPath(jsHost);
  if (existsSync(js)) return { path: js, execArgv: [] };
  return { path: fileURLToPath(devHost), execArgv: ['--conditions=source'] };
}
