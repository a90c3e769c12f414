import { connect } from 'node:net';
import { type Bundle, IsolateLauncher } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, estimateIsolateBytes, type Launcher, type Router } from '../src/index.js';
import { bundleFor, memoryLogger, waitFor } from './fixtures.js';

let alpha: Bundle;
let beta: Bundle;
const routers: Router[] = [];

async function start(
  options: Omit<Parameters<typeof createRouter>[0], 'workers'>,
): Promise<{ router: Router; base: string }> {
  const router = createRouter({
    hostKind: 'local',
    hosts: 2,
    ...options,
    workers: [
      { name: 'alpha', routes: [{ pathPrefix: '/alpha' }], bundle: async () => alpha },
      {
        name: 'beta',
        routes: [{ pathPrefix: '/beta' }, { host: 'beta.test' }],
        bundle: async () => beta,
      },
    ],
  });
  routers.push(router);
  const addr = await router.listen({ port: 0, host: '127.0.0.1' });
  return { router, base: `http://127.0.0.1:${addr.port}` };
}

const worker = async (router: Router, name: string) =>
  (await router.stats()).find((s) => s.worker === name)!;

/** Sends raw bytes and answers everything the server wrote before it closed. */
function raw(port: number, data: string, endAfterMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => {
      out += d.toString();
    });
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.write(data);
    if (endAfterMs !== undefined) setTimeout(() => socket.end(), endAfterMs);
  });
}

beforeAll(async () => {
  [alpha, beta] = await Promise.all([bundleFor('alpha'), bundleFor('beta')]);
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
});

describe('the router over real HTTP with real isolates', () => {
  let router: Router;
  let base: string;
  const log = memoryLogger();

  beforeAll(async () => {
    ({ router, base } = await start({ logger: log, maxBodyBytes: 1024 }));
  });

  it('shares one cold start between concurrent requests for a cold worker', async () => {
    expect((await worker(router, 'alpha')).isolates).toBe(0);
    const texts = await Promise.all(
      [1, 2, 3, 4].map(() => fetch(`${base}/alpha`).then((r) => r.text())),
    );
    expect(texts).toEqual(Array(4).fill('alpha says GET'));
    const after = await worker(router, 'alpha');
    expect(after.coldStarts).toBe(1);
    expect(after.isolates).toBe(1);
  });

  it('routes by path prefix and Host, passing status, headers and body through', async () => {
    // fetch() will not send another Host header: write that request by hand.
    const [ra, rb, rh] = await Promise.all([
      fetch(`${base}/alpha/echo`, { method: 'PUT', body: 'x\u0000y' }),
      fetch(`${base}/beta`),
      raw(
        Number(new URL(base).port),
        'GET /elsewhere HTTP/1.1\r\nhost: beta.test:80\r\nconnection: close\r\n\r\n',
      ),
    ]);
    expect(ra.status).toBe(201);
    expect(ra.headers.get('x-worker')).toBe('alpha');
    expect(ra.headers.get('x-method')).toBe('PUT');
    expect(ra.headers.get('content-type')).toBe('application/x-echo');
    expect(await ra.text()).toBe('x\u0000y');
    expect(await rb.text()).toBe('beta says GET');
    expect(rh).toMatch(/^HTTP\/1\.1 200/);
    expect(rh).toContain('beta says GET');
  });

  it('answers 404 with no route, 500 when the handler raises, 413 past the body limit', async () => {
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/alpha/boom`)).status).toBe(500);
    expect((await fetch(`${base}/alpha`)).status).toBe(200);
    const big = await fetch(`${base}/alpha/echo`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(big.status).toBe(413);
  });

  it('refuses oversized headers (431) and clients that send their head too slowly (408)', async () => {
    // A router of its own: a cold start elsewhere blocks the event loop long enough to
    // trip a short headers timeout on a request that did arrive in time.
    const own = await start({ maxHeaderBytes: 4096, headersTimeoutMs: 1_000 });
    const port = Number(new URL(own.base).port);
    const huge = await raw(
      port,
      `GET /alpha HTTP/1.1\r\nhost: a\r\nx-big: ${'y'.repeat(8000)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    const t0 = performance.now();
    const slow = await raw(port, 'GET /alpha HTTP/1.1\r\nhost: a\r\n');
    expect(slow).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - t0).toBeLessThan(15_000);
  });

  it('keeps connections alive between requests', async () => {
    const port = Number(new URL(base).port);
    const both = await raw(
      port,
      'GET /alpha HTTP/1.1\r\nhost: a\r\n\r\nGET /beta HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n',
    );
    expect(both.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(both).toContain('alpha says GET');
    expect(both).toContain('beta says GET');
  });

  it('serves metrics, status and an access log', async () => {
    const text = await (await fetch(`${base}/__pyworkers/metrics`)).text();
    expect(text).toMatch(/pyworkers_requests_total\{worker="alpha",status="200"\} \d+/);
    expect(text).toContain('pyworkers_cold_starts_total{worker="alpha"} 1');
    expect(text).toContain('pyworkers_isolates{worker="alpha"} 1');
    expect(text).toMatch(/pyworkers_isolate_memory_bytes\{worker="alpha"\} [1-9]\d+/);
    expect(text).toMatch(
      /pyworkers_request_duration_seconds_bucket\{le="0\.5",worker="alpha"\} \d+/,
    );
    expect(text).toContain('# TYPE pyworkers_evictions_total counter');
    expect(text).toContain('# TYPE pyworkers_sheds_total counter');
    const status = (await (await fetch(`${base}/__pyworkers/status`)).json()) as {
      hosts: { id: number; workers: { worker: string }[] }[];
      workers: { worker: string; requests: number }[];
    };
    expect(status.hosts).toHaveLength(2);
    expect(status.workers.find((w) => w.worker === 'alpha')!.requests).toBeGreaterThan(3);
    const entry = log.lines.find(
      (l) => l.msg === 'request' && (l.obj as { status?: number }).status === 201,
    );
    expect(entry?.obj).toMatchObject({ method: 'PUT', url: '/alpha/echo', worker: 'alpha' });
  });

  it('answers 502 for a crashed isolate and replaces it', async () => {
    const before = await worker(router, 'beta');
    expect((await fetch(`${base}/beta/crash`)).status).toBe(502);
    const again = await fetch(`${base}/beta`);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe('beta says GET');
    expect((await worker(router, 'beta')).coldStarts).toBe(before.coldStarts + 1);
  });
});

describe('warm and evict under a memory budget', () => {
  it('evicts the idle isolate of one worker to make room for another', async () => {
    const { router, base } = await start({
      hosts: 1,
      memoryBudgetBytes: Math.ceil(estimateIsolateBytes(alpha) * 1.5),
      eviction: 'lru',
    });
    expect(await (await fetch(`${base}/alpha`)).text()).toBe('alpha says GET');
    expect(await (await fetch(`${base}/alpha`)).text()).toBe('alpha says GET');
    expect(await (await fetch(`${base}/beta`)).text()).toBe('beta says GET');
    const a = await worker(router, 'alpha');
    expect(a).toMatchObject({ coldStarts: 1, evictions: 1, isolates: 0 });
    expect((await worker(router, 'beta')).isolates).toBe(1);
    expect(await (await fetch(`${base}/alpha`)).text()).toBe('alpha says GET');
    expect((await worker(router, 'alpha')).coldStarts).toBe(2);
  });
});

describe('a cap on the number of isolates', () => {
  it('evicts by count when maxIsolates is reached, whatever the memory', async () => {
    const { router, base } = await start({ hosts: 1, maxIsolates: 1, eviction: 'lru' });
    expect(await (await fetch(`${base}/beta`)).text()).toBe('beta says GET');
    expect(await (await fetch(`${base}/alpha`)).text()).toBe('alpha says GET');
    expect(await worker(router, 'beta')).toMatchObject({ evictions: 1, isolates: 0 });
    expect((await worker(router, 'alpha')).isolates).toBe(1);
  });
});

describe('an injected launcher', () => {
  it("sends a warm isolate's plain requests on its lane, answered as through the host", async () => {
    const { router, base } = await start({ hosts: 1 });
    const lanes = async () => (await router.status()).hosts[0]!.laneRequests ?? 0;
    // Two requests through the host, then the isolate opens its lane.
    for (let i = 0; i < 3; i++)
      expect(await (await fetch(`${base}/beta`)).text()).toBe('beta says GET');
    await expect.poll(async () => (await router.status()).hosts[0]!.lanes).toBe(1);
    const before = await lanes();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${base}/beta/echo`, { method: 'POST', body: `n${i}` }).then(async (r) => [
          r.status,
          await r.text(),
        ]),
      ),
    );
    // Each answer to its own request, whatever the order they shared the socket in.
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => [201, `n${i}`]));
    expect(await lanes()).toBeGreaterThan(before);
  });

  it('starts the isolates, and the memory it reports is what the budget counts', async () => {
    const launched: string[] = [];
    const inner = new IsolateLauncher({ poolSize: 0 });
    const launcher: Launcher = {
      async launch(bundle, options) {
        launched.push(bundle.manifest.name);
        const handle = await inner.launch(bundle, options);
        return {
          fetch: (r, o) => handle.fetch(r, o),
          close: () => handle.close(),
          memoryBytes: () => 123_456_789,
        };
      },
    };
    const { router, base } = await start({ hosts: 1, launcher });
    expect(await (await fetch(`${base}/beta`)).text()).toBe('beta says GET');
    expect(launched).toEqual(['beta']);
    expect((await worker(router, 'beta')).bytes).toBe(123_456_789);
    expect(await router.metrics()).toContain(
      'pyworkers_isolate_memory_bytes{worker="beta"} 123456789',
    );
  });
});

describe('a router getting ready', () => {
  it('prepares every bundle and parks its pool before it listens, so the first request swaps', async () => {
    const pool = new IsolateLauncher({ poolSize: 1 });
    const prepared: string[] = [];
    const launcher: Launcher = {
      launch: (bundle, options) => pool.launch(bundle, options),
      prepare: async (bundle) => {
        prepared.push(bundle.manifest.name);
        await pool.prepare(bundle);
      },
      warm: () => pool.warm(),
      close: () => pool.close(),
    };
    const { base } = await start({ hosts: 1, launcher });
    expect(prepared.sort()).toEqual(['alpha', 'beta']);
    expect(pool.stats()).toMatchObject({ parked: 1, swaps: 0 });
    expect(await (await fetch(`${base}/alpha`)).text()).toBe('alpha says GET');
    expect(pool.stats()).toMatchObject({ swaps: 1, freshStarts: 0 });
  });
});

describe('shedding and graceful shutdown', () => {
  it('sends a request a host refused to the next host, and drops none', async () => {
    const { router, base } = await start({ hosts: 2, maxInflightPerHost: 1 });
    const answers = await Promise.all(
      [0, 1, 2].map(() => fetch(`${base}/alpha/slow=0.3`).then((r) => r.status)),
    );
    expect(answers).toEqual([200, 200, 200]);
    const a = await worker(router, 'alpha');
    expect(a.sheds).toBeGreaterThanOrEqual(2);
    expect(a.coldStarts).toBe(2);
    const text = await router.metrics();
    expect(text).toMatch(/pyworkers_sheds_total\{worker="alpha",reason="inflight"\} [2-9]/);
  });

  it('gives a worker another isolate past the per-isolate concurrency limit', async () => {
    const { router, base } = await start({ hosts: 1, concurrency: 1 });
    const answers = await Promise.all(
      [0, 1].map(() => fetch(`${base}/beta/slow=0.3`).then((r) => r.status)),
    );
    expect(answers).toEqual([200, 200]);
    expect(await worker(router, 'beta')).toMatchObject({ coldStarts: 2, isolates: 2, sheds: 0 });
    // Sequential requests fit one isolate: no third cold start.
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/beta`)).status).toBe(200);
    expect((await worker(router, 'beta')).coldStarts).toBe(2);
  });

  it('finishes in-flight requests on close and stops accepting', async () => {
    const { router, base } = await start({ hosts: 1 });
    expect((await fetch(`${base}/alpha`)).status).toBe(200);
    const slow = fetch(`${base}/alpha/slow=1`);
    await waitFor(async () => (await router.status()).inflight > 0);
    const closed = router.close();
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('alpha says GET');
    await closed;
    await expect(fetch(`${base}/alpha`)).rejects.toThrow();
  });
});
