import { spawnSync } from 'node:child_process';

const seen = new Map<string, boolean>();

/**
 * Whether the machine's `python3` can run `code` (e.g. `import pip._vendor.packaging.tags`),
 * for tests that check us against Python as the reference. Without it such a test skips
 * locally, but under `CI=true` this throws: CI must not pass by checking nothing.
 * @example it.skipIf(!referencePython('import zipfile'))('reads what Python writes', ...)
 */
export function referencePython(code = 'pass'): boolean {
  let ok = seen.get(code);
  if (ok === undefined) {
    ok = spawnSync('python3', ['-c', code], { stdio: 'ignore' }).status === 0;
    seen.set(code, ok);
  }
  if (!ok && process.env.CI === 'true') {
    throw new Error(
      `CI=true, but python3 cannot run \`${code}\`: install python3 with pip (Debian: apt-get install python3 python3-pip), the reference these tests compare against`,
    );
  }
  return ok;
}
