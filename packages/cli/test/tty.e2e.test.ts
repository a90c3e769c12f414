// On a terminal, `pyworkers serve` writes lines for people: no JSON, and Python's output keeps
// its worker's name on every line. Run under a real pseudo-terminal (util-linux `script`).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasScript, type PtyProcess, plainLines, startPty } from '@pyworkers/vitest-config/pty';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from './helpers/run-cli.js';

const SHIM = fileURLToPath(new URL('../bin/pyworkers.js', import.meta.url));
const haveScript = hasScript();
if (!haveScript) {
  if (process.env.CI === 'true') throw new Error('CI=true but `script` (util-linux) is missing');
  process.stderr.write('skipping the pseudo-terminal tests: no `script` (util-linux) here\n');
}

let root: string | undefined;
let pty: PtyProcess | undefined;

afterAll(async () => {
  await pty?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!haveScript)('pyworkers serve on a terminal', () => {
  it('writes human lines, no JSON, the worker name on every Python line', async () => {
    root = mkdtempSync(join(tmpdir(), 'pyw-tty-e2e-'));
    const init = await runCli(['init', 'talker'], { cwd: root });
    expect(init.code, init.stderr).toBe(0);
    writeFileSync(
      join(root, 'talker', 'src', 'entry.py'),
      [
        'from workers import Response, WorkerEntrypoint',
        '',
        '',
        'class Default(WorkerEntrypoint):',
        '    async def fetch(self, request):',
        '        print("first printed line\\nsecond printed line")',
        '        return Response("talked")',
        '',
      ].join('\n'),
    );
    // The committed bin shim, as `npx pyworkers` runs it.
    pty = startPty([process.execPath, SHIM, 'serve', '--port', '0', 'talker'], {
      cwd: root,
      env: cliEnv(),
    });
    const [, url] = await pty.waitFor(/^serving on (http:\S+)$/m);
    expect(await (await fetch(`${url}/`)).text()).toBe('talked');
    await pty.waitFor(/GET \/ 200/);
    await pty.stop();

    const lines = plainLines(pty.output());
    expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    for (const text of ['first printed line', 'second printed line']) {
      const line = lines.find((l) => l.includes(text));
      expect(line, text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[talker\] /);
    }
    expect(lines.find((l) => l.includes('GET / 200'))).toMatch(/\[talker\] GET \/ 200 [\d.]+ ms/);
  });
});
