import type { Bundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router, type RouterStatus } from '../src/index.js';
import { bundleFor } from './fixtures.js';

// A server that just loaded its workers parks an isolate for each before it listens: their
// first requests, one after another, all swap (none waits for a boot), and the pool goes back.
const names = ['one', 'two', 'three'];
let router: Router;
let base: string;

const status = async (): Promise<RouterStatus> =>
  (await (await fetch(`${base}/__pyworkers/status`)).json()) as RouterStatus;

beforeAll(async () => {
  const bundles = new Map<string, Bundle>();
  for (const name of names) bundles.set(name, await bundleFor(name));
  router = createRouter({
    hostKind: 'process',
    hosts: 1,
    maxPoolSize: 4,
    workers: names.map((name) => ({
      name,
      routes: [{ pathPrefix: `/${name}` }],
      bundle: async () => bundles.get(name)!,
    })),
  });
  const addr = await router.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  await router?.close();
});

describe('first cold starts after the port opens', () => {
  it('find an isolate parked for each worker, then the pool shrinks back', async () => {
    const before = (await status()).hosts[0]!.pool!;
    expect(before).toMatchObject({ parked: 3, poolTarget: 3, swaps: 0, misses: 0 });
    for (const name of names) {
      const res = await fetch(`${base}/${name}/`);
      expect(await res.text()).toBe(`${name} says GET`);
    }
    const after = (await status()).hosts[0]!.pool!;
    expect(after).toMatchObject({ swaps: 3, freshStarts: 0, misses: 0, poolTarget: 1 });
    expect(after.parked + after.booting).toBeLessThanOrEqual(1);
  });
});
