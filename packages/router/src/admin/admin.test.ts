import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { IsolateError } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router, type RouterStatus } from '../router.js';
import { isAdminPath, isLoopback } from './access.js';
import { quantile, StatusHistory } from './history.js';

// The admin paths over real HTTP on 127.0.0.1: the page and its files, who may see them, and
// that no spelling of /__pyworkers/ reaches a worker, even one routed at /.
const broken = {
  name: 'everything',
  routes: [{ pathPrefix: '/' }],
  bundle: async () => {
    throw new IsolateError('ERR_BUNDLE_INVALID', 'everything.pwb: not a pyworkers bundle', {
      userError: true,
    });
  },
};
const routers: Router[] = [];

async function start(adminToken?: string): Promise<string> {
  const router = createRouter({
    hostKind: 'local',
    hosts: 1,
    workers: [broken],
    ...(adminToken ? { adminToken } : {}),
  });
  routers.push(router);
  const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${port}`;
}

/** A GET with the path exactly as written (fetch would resolve `..` and such first). */
function raw(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, { path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

let base: string;
beforeAll(async () => {
  base = await start();
});
afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
});

describe('the status page', () => {
  it('is served by the router with its own copy of uPlot, no CDN', async () => {
    const res = await fetch(`${base}/__pyworkers/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script src="assets/uPlot.iife.min.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
    const uplot = await fetch(`${base}/__pyworkers/assets/uPlot.iife.min.js`);
    expect(uplot.headers.get('content-type')).toContain('text/javascript');
    const file = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
    expect(Buffer.from(await uplot.arrayBuffer()).equals(readFileSync(file))).toBe(true);
    for (const a of ['status.js', 'status.css', 'uPlot.min.css'])
      expect((await fetch(`${base}/__pyworkers/assets/${a}`)).status, a).toBe(200);
    const bare = await fetch(`${base}/__pyworkers`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/__pyworkers/');
    expect((await raw(base, '/__pyworkers/assets/../../etc/passwd')).status).toBe(404);
  });

  it('never hands an admin path to a worker, however it is spelled', async () => {
    for (const path of [
      '/__pyworkers/nothing-here',
      '/__PYWORKERS/status',
      '//__pyworkers/status',
      '/%5F%5Fpyworkers/status',
      '/x/../__pyworkers/status',
      '/__pyworkers%2Fstatus',
    ]) {
      const res = await raw(base, path);
      expect([200, 404], path).toContain(res.status);
    }
    const status = (await (await fetch(`${base}/__pyworkers/status`)).json()) as RouterStatus;
    // The worker at / would have been cold-started (and failed) by any of them.
    expect(status.workers[0]).toMatchObject({ worker: 'everything', requests: 0, coldStarts: 0 });
    expect(() =>
      createRouter({ workers: [{ ...broken, routes: [{ pathPrefix: '/__pyworkers/x' }] }] }),
    ).toThrow(/inside \/__pyworkers\//);
  });

  it('lists a failed request under recent errors with its message', async () => {
    expect((await fetch(`${base}/some/page`)).status).toBe(502);
    const status = (await (await fetch(`${base}/__pyworkers/status`)).json()) as RouterStatus;
    const w = status.workers.find((x) => x.worker === 'everything')!;
    expect(w).toMatchObject({ requests: 1, errors: 1, warmRatio: 0 });
    expect(status.errors[0]).toMatchObject({
      worker: 'everything',
      url: '/some/page',
      status: 502,
      message: 'everything.pwb: not a pyworkers bundle',
    });
    expect(status.system.cpus).toBeGreaterThan(0);
    expect(status.hosts[0]).toHaveProperty('rssBytes');
  });

  it('answers only this machine, not a request that came through a proxy', async () => {
    const res = await fetch(`${base}/__pyworkers/status`, {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(res.status).toBe(404);
    // The same answer as for a path nothing is routed at: nothing says admin paths exist.
    expect(await res.text()).toBe('no worker is routed at /__pyworkers/status\n');
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });

  it('with an admin token, requires it on every admin path and never shows it', async () => {
    const url = await start('s3cret-token');
    expect((await fetch(`${url}/__pyworkers/status`)).status).toBe(401);
    expect((await fetch(`${url}/__pyworkers/`)).status).toBe(401);
    const wrong = { headers: { authorization: 'Bearer nope' } };
    expect((await fetch(`${url}/__pyworkers/status`, wrong)).status).toBe(401);
    const ok = await fetch(`${url}/__pyworkers/status`, {
      headers: { authorization: 'Bearer s3cret-token' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).not.toContain('s3cret-token');
    // A browser: ?token= once, then the cookie carries it for the page's polling.
    const page = await fetch(`${url}/__pyworkers/?token=s3cret-token`);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const polled = await fetch(`${url}/__pyworkers/status`, {
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(polled.status).toBe(200);
  });
});

describe('StatusHistory', () => {
  it('keeps one sample a second per worker, and percentiles of recent requests', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 0.99)).toBe(100);
    const h = new StatusHistory(['a']);
    for (const ms of [1, 2, 3]) h.request('a', ms);
    h.coldStart('a');
    h.sample(1_000, [
      {
        id: 0,
        kind: 'local',
        pid: process.pid,
        inflight: 0,
        usedBytes: 0,
        budgetBytes: 1,
        workers: [{ worker: 'a', isolates: 2, bytes: 7, inflight: 0 }],
      },
    ]);
    h.request('b', 4);
    h.sample(2_000, []);
    expect(h.times).toEqual([1_000, 2_000]);
    expect(h.series('a')).toEqual({
      requestsPerSecond: [3, 0],
      p50Ms: [2, null],
      p99Ms: [3, null],
      coldStarts: [1, 0],
      isolates: [2, 0],
      memoryBytes: [7, 0],
    });
    // A worker first seen later gets empty samples for the seconds before it.
    expect(h.series('b').requestsPerSecond).toEqual([0, 1]);
    expect(h.summary('a')).toEqual({ requestsPerSecond: 0.3, p50Ms: 2, p99Ms: 3 });
    expect(h.hostLoad.get(0)?.rssBytes).toBeGreaterThan(0);
  });

  it('attaches the traceback an isolate logged to the request that failed with its last line', () => {
    const h = new StatusHistory(['py']);
    const logged: string[] = [];
    const logger = h.tap({
      debug() {},
      info() {},
      warn() {},
      error: (_o, m) => logged.push(m ?? ''),
    });
    const tb =
      'Traceback (most recent call last):\n  File "entry.py", line 3, in fetch\nValueError: boom';
    logger.error({ worker: 'py' }, tb);
    h.error({
      time: Date.now(),
      worker: 'py',
      method: 'GET',
      url: '/',
      status: 500,
      message: 'ValueError: boom',
    });
    h.error({
      time: Date.now(),
      worker: 'py',
      method: 'GET',
      url: '/',
      status: 500,
      message: 'other',
    });
    expect(logged).toEqual([tb]);
    expect(h.errors.map((e) => e.message)).toEqual(['other', tb]);
  });

  it('decides admin paths on the normalised path', () => {
    expect(isAdminPath('/__pyworkers/')).toBe(true);
    expect(isAdminPath('/%5f%5fPyWorkers/status?x=1')).toBe(true);
    expect(isAdminPath('/__pyworkersx')).toBe(false);
    expect(isAdminPath('/api/__pyworkers')).toBe(false);
    // Spellings without a percent escape (the path that skips decoding).
    expect(isAdminPath('//__PYWORKERS\\status')).toBe(true);
    expect(isAdminPath('/a/../__pyworkers/status')).toBe(true);
    expect(isAdminPath('/__pyworkers')).toBe(true);
    expect(isAdminPath('/__pywor\u212aers/metrics')).toBe(true); // KELVIN SIGN lowers to k
    expect(isAdminPath('/__py/workers')).toBe(false);
    expect(isAdminPath('/hello?next=/__pyworkers/status')).toBe(false);
  });
});
