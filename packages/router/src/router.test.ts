import { IsolateError } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterError } from './errors.js';
import { createRouter, type Router } from './router.js';

// Router behaviour that needs no Python: config checks, 404s, limits, a worker whose bundle
// cannot be read, and the metrics/status endpoints. Real HTTP on 127.0.0.1.
let router: Router;
let base: string;

beforeAll(async () => {
  router = createRouter({
    hostKind: 'local',
    hosts: 2,
    poolSize: 0,
    maxBodyBytes: 16,
    workers: [
      {
        name: 'broken',
        routes: [{ pathPrefix: '/broken' }],
        bundle: async () => {
          throw new IsolateError('ERR_BUNDLE_INVALID', 'broken.bundle: not a pyworkers bundle', {
            userError: true,
          });
        },
      },
    ],
  });
  const addr = await router.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  await router?.close();
});

describe('createRouter', () => {
  it('rejects bad options with the option named', () => {
    expect(() => createRouter({ workers: [], eps: -1 })).toThrow(RouterError);
    expect(() => createRouter({ workers: [], eps: -1 })).toThrow(/router option eps/);
    expect(() => createRouter({ workers: [], hosts: 0, hostKind: 'local' })).toThrow(
      /router option hosts/,
    );
  });

  it('refuses a launcher it could not use, instead of ignoring it', () => {
    const launcher = { launch: () => Promise.reject(new Error('unused')) };
    expect(() => createRouter({ workers: [], launcher })).toThrow(
      /launcher: applies to in-process hosts only/,
    );
    expect(() => createRouter({ workers: [], hostKind: 'local', launcher, poolSize: 2 })).toThrow(
      /launcher and poolSize/,
    );
  });

  it('answers 404 for paths no worker is routed at', async () => {
    const res = await fetch(`${base}/nowhere`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('/nowhere');
  });

  it('refuses a declared body over the limit with 413 before running anything', async () => {
    const res = await fetch(`${base}/broken`, { method: 'POST', body: 'x'.repeat(17) });
    expect(res.status).toBe(413);
    expect((await router.stats())[0]!.coldStarts).toBe(0);
  });

  it('answers 502 when a worker cannot start, and tries again on the next request', async () => {
    expect((await fetch(`${base}/broken`)).status).toBe(502);
    expect((await fetch(`${base}/broken`)).status).toBe(502);
    const stats = (await router.stats())[0]!;
    expect(stats).toMatchObject({ worker: 'broken', coldStarts: 2, isolates: 0 });
  });

  it('refuses events for a worker it does not serve, naming the ones it does', async () => {
    await expect(
      router.dispatch('nobody', { type: 'scheduled', cron: '* * * * *', scheduledTime: 0 }),
    ).rejects.toMatchObject({
      code: 'ERR_ROUTER_NO_WORKER',
      message: 'no worker named "nobody" (known: broken)',
    });
  });

  it('fails an event for a worker that cannot start, like its requests', async () => {
    await expect(
      router.dispatch('broken', { type: 'queue', queue: 'q', messages: [] }),
    ).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' });
  });

  it('serves Prometheus metrics and a JSON status', async () => {
    const metrics = await fetch(`${base}/__pyworkers/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toContain('pyworkers_requests_total{worker="broken",status="502"} 2');
    expect(text).toContain('# TYPE pyworkers_request_duration_seconds histogram');
    const status = (await (await fetch(`${base}/__pyworkers/status`)).json()) as {
      draining: boolean;
      config: { hosts: number; hostKind: string };
      hosts: unknown[];
    };
    expect(status.draining).toBe(false);
    expect(status.config).toMatchObject({ hosts: 2, hostKind: 'local' });
    expect(status.hosts).toHaveLength(2);
  });
});
