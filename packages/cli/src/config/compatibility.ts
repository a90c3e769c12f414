import { readFileSync } from 'node:fs';
import { PYODIDE_LOCK_FILE, PYODIDE_VERSION } from '@pyworkers/isolate';
import { CliError } from '../errors.js';

let pythonVersion: string | undefined;

/** Python version of the pinned Pyodide, read from its lock file. */
export function pinnedPythonVersion(): string {
  pythonVersion ??= (
    JSON.parse(readFileSync(PYODIDE_LOCK_FILE, 'utf8')) as { info: { python: string } }
  ).info.python;
  return pythonVersion;
}

const matches = (want: string, have: string): boolean =>
  have === want || have.startsWith(`${want}.`);

/**
 * Checks a project's `compatibility` ("pyodide-314", "python-3.14") against the runtime this
 * pyworkers ships; a mismatch is a user error, since a snapshot only restores on the exact
 * Pyodide that made it.
 */
export function checkCompatibility(compatibility: string, where: string): void {
  const [kind, want = ''] = compatibility.split(/-(.*)/s);
  const have = kind === 'pyodide' ? PYODIDE_VERSION : pinnedPythonVersion();
  if (matches(want, have)) return;
  throw new CliError(
    'ERR_CONFIG',
    `compatibility "${compatibility}" asks for ${kind === 'pyodide' ? 'Pyodide' : 'Python'} ${want}, but this pyworkers runs Pyodide ${PYODIDE_VERSION} (Python ${pinnedPythonVersion()})`,
    {
      where,
      hint: `set compatibility = "pyodide-${PYODIDE_VERSION.split('.')[0]}" or "python-${pinnedPythonVersion().split('.').slice(0, 2).join('.')}", or install the pyworkers release that ships that runtime`,
    },
  );
}
