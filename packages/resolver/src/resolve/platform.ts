import { evaluateMarker, type PyodideLockInfo, pyodideMarkerEnvironment } from '../markers.js';
import { createTagPolicy } from '../tags.js';
import type { ResolverPlatform } from './types.js';

/**
 * The resolver's view of a pinned Pyodide: its markers, Python version and wheel tags.
 * @example pyodidePlatform(readPyodideLock(PYODIDE_LOCK_FILE).info)
 */
export function pyodidePlatform(info: PyodideLockInfo): ResolverPlatform {
  const env = pyodideMarkerEnvironment(info);
  const tags = createTagPolicy(info);
  return {
    pythonVersion: env.python_full_version,
    markerMatches: (marker, extra) => evaluateMarker(marker, env, extra ? [extra] : []),
    // The tag policy ranks lower-is-better; the resolver wants higher-is-better.
    wheelRank: (filename) => {
      const r = tags.rank(filename);
      return r === null ? null : -r;
    },
    wheelRejection: (filename) => {
      const c = tags.check(filename);
      return c.ok ? undefined : c.reason;
    },
  };
}
