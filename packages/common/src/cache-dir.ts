import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The one cache directory of pyworkers (baseline snapshots, downloads, index pages):
 * `PYWORKERS_CACHE_DIR`, else the platform's user cache dir + `pyworkers`
 * (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
 * `%LOCALAPPDATA%\pyworkers\cache` on Windows).
 * @example cacheDir({ PYWORKERS_CACHE_DIR: '/tmp/c' }) // '/tmp/c'
 */
export function cacheDir(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.PYWORKERS_CACHE_DIR) return env.PYWORKERS_CACHE_DIR;
  if (platform === 'win32') {
    return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'pyworkers', 'cache');
  }
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'pyworkers');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pyworkers');
}
