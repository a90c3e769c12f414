// Part of the reliability suite: `pyworkers serve` told to stop (SIGTERM) while requests are
// running finishes every one of them, takes no new connection, and exits 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, startCli } from './helpers/run-cli.js';

const entry = `import asyncio
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if "/slow" in request.url:
            await asyncio.sleep(2)
            return Response("finished after the signal")
        return Response("ok")
`;

let root: string;
let server: CliProcess | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pyw-drain-'));
  const init = await runCli(['init', 'app'], { cwd: root });
  expect(init.code, init.stderr).toBe(0);
  writeFileSync(join(root, 'app', 'src', 'entry.py'), entry);
});

afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('pyworkers serve on SIGTERM', () => {
  it('drains the requests in flight, refuses new ones, and exits 0', async () => {
    server = startCli(['serve', '--port', '0', '--json', 'app'], { cwd: root });
    const { url } = await server.ready;
    expect(await (await fetch(`${url}/`)).text()).toBe('ok');
    const inflight = Array.from({ length: 6 }, () =>
      fetch(`${url}/slow`).then(async (r) => ({ status: r.status, text: await r.text() })),
    );
    // Wait until all six are in Python (the status page counts them), then signal.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = (await (await fetch(`${url}/__pyworkers/status`)).json()) as {
        hosts: { inflight: number }[];
      };
      if (s.hosts.reduce((n, h) => n + h.inflight, 0) >= 6) break;
      if (Date.now() > deadline) throw new Error('the six requests never were in flight');
      await new Promise((r) => setTimeout(r, 50));
    }
    const exited = new Promise<number | null>((resolve) => server!.child.once('close', resolve));
    server.child.kill('SIGTERM');
    // A new connection after the signal is not served by a half-closed server.
    await new Promise((r) => setTimeout(r, 200));
    const late = await fetch(`${url}/`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(['refused', 503]).toContain(late);
    for (const r of await Promise.all(inflight)) {
      expect(r).toEqual({ status: 200, text: 'finished after the signal' });
    }
    expect(await exited).toBe(0);
  });
});
