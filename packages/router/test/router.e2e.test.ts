import { buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';

const entry = (name: string) => `
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/boom"):
            raise RuntimeError("boom")
        return Response("${name} says " + request.method, headers={"x-worker": "${name}"})
`;

async function bundleFor(name: string) {
  const bytes = await buildBundle({
    name,
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry(name))]]),
    vars: {},
  });
  return decodeBundle(bytes);
}

let router: Router;
let base: string;

beforeAll(async () => {
  const [a, b] = await Promise.all([bundleFor('alpha'), bundleFor('beta')]);
  router = createRouter({
    workers: [
      { name: 'alpha', routes: [{ pathPrefix: '/alpha' }], bundle: async () => a },
      { name: 'beta', routes: [{ pathPrefix: '/beta' }], bundle: async () => b },
    ],
  });
  const addr = await router.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  await router?.close();
});

describe('the router over real HTTP', () => {
  it('routes by path prefix to the right Python worker and passes headers through', async () => {
    const [ra, rb] = await Promise.all([
      fetch(`${base}/alpha/x`, { method: 'POST', body: 'x' }),
      fetch(`${base}/beta`),
    ]);
    expect(ra.status).toBe(200);
    expect(await ra.text()).toBe('alpha says POST');
    expect(ra.headers.get('x-worker')).toBe('alpha');
    expect(await rb.text()).toBe('beta says GET');
  });

  it('shares one cold start between concurrent requests for a cold worker', async () => {
    const before = router.stats().find((s) => s.worker === 'alpha')!;
    await Promise.all([1, 2, 3].map(() => fetch(`${base}/alpha`).then((r) => r.text())));
    const after = router.stats().find((s) => s.worker === 'alpha')!;
    expect(after.coldStarts).toBe(before.coldStarts);
    expect(after.coldStarts).toBe(1);
  });

  it('answers 404 when no route matches and 500 when the handler raises', async () => {
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/alpha/boom`)).status).toBe(500);
    expect((await fetch(`${base}/alpha`)).status).toBe(200);
  });
});
