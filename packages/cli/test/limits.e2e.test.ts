// A worker's own `[tool.pyworkers.limits]` reach `pyworkers serve`: no flag default overrides
// the file. A looping request is stopped at the file's limit while the neighbouring worker, in
// the same server, keeps answering.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, startCli } from './helpers/run-cli.js';

let root: string;
let server: CliProcess | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pyw-limits-e2e-'));
  for (const name of ['looper', 'neighbour']) {
    const init = await runCli(['init', name], { cwd: root });
    expect(init.code, init.stderr).toBe(0);
  }
  writeFileSync(
    join(root, 'looper', 'pyproject.toml'),
    [
      '[project]',
      'name = "looper"',
      'version = "0.1.0"',
      'dependencies = []',
      '',
      '[tool.pyworkers.limits]',
      'request_timeout_ms = 2000',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(root, 'looper', 'src', 'entry.py'),
    [
      'from workers import Response, WorkerEntrypoint',
      '',
      '',
      'class Default(WorkerEntrypoint):',
      '    async def fetch(self, request):',
      '        if request.url.endswith("/loop"):',
      '            while True:',
      '                pass',
      '        return Response("looper is warm")',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('[tool.pyworkers.limits] under pyworkers serve', () => {
  it('stops a looping request at the file limit (2 s) while a neighbour keeps answering', async () => {
    server = startCli(['serve', '--port', '0', '--json', 'looper', 'neighbour'], {
      cwd: root,
      env: { PYWORKERS_CACHE_DIR: join(root, 'cache') },
    });
    const { url } = await server.ready;
    // Warm both first, so the clock below measures the limit, not a cold start.
    expect(await (await fetch(`${url}/looper/`)).text()).toBe('looper is warm');
    expect((await fetch(`${url}/neighbour/`)).status).toBe(200);

    const t0 = performance.now();
    const looping = fetch(`${url}/looper/loop`).then(async (res) => ({
      status: res.status,
      ms: performance.now() - t0,
    }));
    // While the loop spins, the neighbour answers (several times inside the loop's 2 s).
    const neighbour: number[] = [];
    let done = false;
    void looping.finally(() => {
      done = true;
    });
    while (!done) {
      const s = performance.now();
      const res = await fetch(`${url}/neighbour/`);
      expect(res.status).toBe(200);
      await res.text();
      neighbour.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 100));
    }
    const result = await looping;
    expect(result.status).toBeGreaterThanOrEqual(500);
    expect(result.ms).toBeGreaterThanOrEqual(1_900);
    expect(result.ms).toBeLessThan(2_500);
    expect(neighbour.length).toBeGreaterThanOrEqual(2);
    expect(server.stderr()).toContain('the request ran longer than 2000 ms');
  });
});
