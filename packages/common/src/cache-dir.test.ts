import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDir } from './cache-dir.js';

describe('cacheDir', () => {
  it('prefers PYWORKERS_CACHE_DIR, then the platform cache dir', () => {
    expect(cacheDir({ PYWORKERS_CACHE_DIR: '/c' }, 'linux')).toBe('/c');
    expect(cacheDir({ PYWORKERS_CACHE_DIR: '/c' }, 'win32')).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' }, 'linux')).toBe(join('/x', 'pyworkers'));
    expect(cacheDir({}, 'linux')).toMatch(/\.cache[/\\]pyworkers$/);
    expect(cacheDir({}, 'darwin')).toMatch(/Library[/\\]Caches[/\\]pyworkers$/);
    expect(cacheDir({ LOCALAPPDATA: 'C:\\L' }, 'win32')).toBe(join('C:\\L', 'pyworkers', 'cache'));
    // No LOCALAPPDATA (a stripped environment): still under the user's profile, not ~/.cache.
    expect(cacheDir({}, 'win32')).toMatch(/AppData[/\\]Local[/\\]pyworkers[/\\]cache$/);
  });
});
