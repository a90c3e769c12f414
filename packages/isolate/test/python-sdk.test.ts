// The Python SDK's pure parts (handler signatures, event objects, headers, WSGI environ) run
// under the machine's CPython in well under a second: quick checks next to the Pyodide e2e ones.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function python(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import sys; print(sys.version_info >= (3, 11))'], {
    encoding: 'utf8',
  });
  return probe.status === 0 && probe.stdout.trim() === 'True' ? 'python3' : undefined;
}

const found = python();
// On CI a missing Python is a failure, not a silent skip.
const skip = !found && process.env.CI !== 'true';

describe('the Python SDK under CPython', () => {
  it.skipIf(skip)('passes its unittest suite (test/python/)', () => {
    expect(found, 'python3 >= 3.11 is needed for the Python SDK tests').toBeDefined();
    const run = spawnSync(
      found!,
      ['-m', 'unittest', 'discover', '-s', 'test/python', '-t', 'test/python'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: `${root}python`, PYTHONDONTWRITEBYTECODE: '1' },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^OK/m);
  });
});
