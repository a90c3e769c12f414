// `npm start` on a terminal writes lines for people, not JSON (a pipe still gets JSON lines).
// Run under a real pseudo-terminal (util-linux `script`), from the repo root as a user would.

import { fileURLToPath } from 'node:url';
import { hasScript, type PtyProcess, plainLines, startPty } from '@pyworkers/vitest-config/pty';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const haveScript = hasScript();
if (!haveScript) {
  if (process.env.CI === 'true') throw new Error('CI=true but `script` (util-linux) is missing');
  process.stderr.write('skipping the pseudo-terminal test of npm start: no `script` here\n');
}

let pty: PtyProcess | undefined;
afterAll(async () => {
  await pty?.stop();
});

describe.skipIf(!haveScript)('npm start on a terminal', () => {
  it('writes human lines: no JSON', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!/^(PYWORKERS_LOG|NO_COLOR|FORCE_COLOR|npm_)/.test(k)) env[k] = v;
    pty = startPty(['npm', 'start'], { cwd: REPO, env: { ...env, PORT: '0' } });
    const [, url] = await pty.waitFor(/serving on (http:\/\/[\d.:]+)/);
    expect((await fetch(`${url}/`)).status).toBe(200);
    await pty.waitFor(/GET \/ 200/);
    await pty.stop();
    const lines = plainLines(pty.output());
    expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    expect(lines.find((l) => l.includes('GET / 200'))).toMatch(/\[hello\] GET \/ 200 [\d.]+ ms/);
  });
});
