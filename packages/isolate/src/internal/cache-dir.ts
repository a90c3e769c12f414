import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where pyworkers caches baseline snapshots: `PYWORKERS_CACHE_DIR`, else the user cache dir
 * (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on
 * Windows) + `/pyworkers`.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PYWORKERS_CACHE_DIR) return env.PYWORKERS_CACHE_DIR;
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'pyworkers');
  if (process.platform === 'win32' && env.LOCALAPPDATA) {
    return join(env.LOCALAPPDATA, 'pyworkers', 'cache');
  }
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pyworkers');
}
