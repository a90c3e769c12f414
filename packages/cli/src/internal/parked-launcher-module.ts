import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError } from '../errors.js';

// Kept apart from parked-launcher.ts so that finding the module does not create a launcher in
// the serving process: only host processes import it.
// src/internal/ (repo source) and dist/ (one chunk dir) differ in depth: try both.
const candidates = ['./parked-launcher.js', '../parked-launcher.ts'];

/** URL the isolate host processes import the parked launcher from. */
export function parkedLauncherModule(): string {
  for (const rel of candidates) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url.href;
  }
  throw new CliError('ERR_INTERNAL', 'parked-launcher module missing from the pyworkers package', {
    hint: 'reinstall pyworkers',
  });
}
