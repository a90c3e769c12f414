import { readFileSync } from 'node:fs';
import type { Bundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router, type RouterStatus } from '../src/index.js';
import { bundleFor, waitFor } from './fixtures.js';

let bundle: Bundle;
let router: Router;
let base: string;

const status = async (): Promise<RouterStatus> =>
  (await (await fetch(`${base}/__pyworkers/status`)).json()) as RouterStatus;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  // An operator's variable: it must not reach host processes (nor their isolates).
  process.env.PYWORKERS_TEST_OPERATOR_TOKEN = 'operator-token-hunter2';
  bundle = await bundleFor('gamma');
  router = createRouter({
    hostKind: 'process',
    hosts: 2,
    workers: [
      {
        name: 'gamma',
        routes: [{ pathPrefix: '/' }],
        bundle: async () => bundle,
        secrets: { TOKEN: 'from-the-router' },
      },
    ],
  });
  const addr = await router.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  delete process.env.PYWORKERS_TEST_OPERATOR_TOKEN;
  await router?.close();
});

describe('isolate hosts in child processes', () => {
  it("start with an environment holding none of the operator's variables", async () => {
    const { hosts } = await status();
    expect(hosts.length).toBe(2);
    for (const { pid } of hosts) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const names = environ
        .split('\0')
        // glibc rewrites GLIBC_TUNABLES in place as it reads it: one tunable per NUL-ended piece.
        .filter((kv) => kv && !kv.startsWith('glibc.'))
        .map((kv) => kv.split('=')[0]);
      // fork() adds its own two for the IPC channel.
      expect(names.sort()).toEqual([
        'GLIBC_TUNABLES',
        'NODE_CHANNEL_FD',
        'NODE_CHANNEL_SERIALIZATION_MODE',
        'PYWORKERS_CACHE_DIR',
        'TMPDIR',
        'TZ',
      ]);
      expect(environ).not.toContain('operator-token-hunter2');
      for (const name of ['PATH', 'HOME', 'USER']) {
        if (process.env[name]) expect(names).not.toContain(name);
      }
    }
  });

  it('runs scheduled and queue events in a host process, results coming back', async () => {
    expect(
      await router.dispatch('gamma', { type: 'scheduled', cron: 'no-retry', scheduledTime: 0 }),
    ).toEqual({ type: 'scheduled', outcome: 'ok', noRetry: true });
    const batch = await router.dispatch('gamma', {
      type: 'queue',
      queue: 'q',
      messages: [
        { id: '1', timestamp: 0, body: 'again', attempts: 1 },
        { id: '2', timestamp: 0, body: { done: true }, attempts: 1 },
      ],
    });
    expect(batch.messages).toEqual([
      { id: '1', action: 'retry', delaySeconds: 2 },
      { id: '2', action: 'ack' },
    ]);
    await expect(
      router.dispatch('nobody', { type: 'scheduled', cron: '* * * * *', scheduledTime: 0 }),
    ).rejects.toMatchObject({ code: 'ERR_ROUTER_NO_WORKER' });
  });

  it("hands the worker's secrets to its isolate across the process boundary", async () => {
    const res = await fetch(`${base}/secret`);
    expect(await res.text()).toBe('from-the-router');
    // Secrets are given at start, never stored in the bundle.
    expect(JSON.stringify(bundle.manifest)).not.toContain('from-the-router');
  });

  it('serves requests from isolates in another process, sharing one cold start', async () => {
    const bodies = await Promise.all(
      [0, 1, 2].map(() => fetch(`${base}/x/echo`, { method: 'POST', body: 'hi' })),
    );
    for (const r of bodies) {
      expect(r.status).toBe(201);
      expect(await r.text()).toBe('hi');
    }
    const s = await status();
    expect(s.hosts.map((h) => h.kind)).toEqual(['process', 'process']);
    expect(s.hosts.every((h) => h.pid !== process.pid && alive(h.pid))).toBe(true);
    expect(s.workers[0]).toMatchObject({ worker: 'gamma', coldStarts: 1, isolates: 1 });
    expect(await router.metrics()).toContain('pyworkers_cold_starts_total{worker="gamma"} 1');
  });

  it('answers 500 when the handler raises: the error keeps its code across the process boundary', async () => {
    // The router tells a handler fault (500) from a host fault (503) by the revived error's code.
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    expect((await status()).workers[0]).toMatchObject({ worker: 'gamma', coldStarts: 1 });
  });

  it('answers 503 to in-flight requests of a host process that dies, then replaces it', async () => {
    const before = await status();
    const host = before.hosts.find((h) => h.workers.some((w) => w.worker === 'gamma'))!;
    const slow = fetch(`${base}/slow=60`);
    // Kill the host only once the request runs in it.
    await waitFor(async () => (await router.status()).hosts[host.id]!.inflight > 0);
    process.kill(host.pid, 'SIGKILL');
    const t0 = performance.now();
    expect((await slow).status).toBe(503);
    // Far sooner than the 60 s the handler would take: the request is failed, not left hanging.
    expect(performance.now() - t0).toBeLessThan(20_000);
    const again = await fetch(`${base}/`);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe('gamma says GET');
    const after = await status();
    const replaced = after.hosts.find((h) => h.id === host.id)!;
    expect(replaced.pid).not.toBe(host.pid);
    expect(alive(replaced.pid)).toBe(true);
  });

  it('stops its host processes on close', async () => {
    const pids = (await status()).hosts.map((h) => h.pid);
    await router.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(pids.filter(alive)).toEqual([]);
  });
});
