import { tmpdir } from 'node:os';
import { cacheDir } from '@pyworkers/common';

/**
 * The whole environment of an isolate host process: what it needs, computed here, and none of
 * the operator's variables (tokens, cloud credentials, database URLs). Workers' secrets reach a
 * host over IPC, per worker, never through the environment. Workers run in UTC, as on
 * Cloudflare.
 */
export function hostProcessEnv(): Record<string, string> {
  return { PYWORKERS_CACHE_DIR: cacheDir(), TMPDIR: tmpdir(), TZ: 'UTC' };
}
