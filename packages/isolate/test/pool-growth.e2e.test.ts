import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bundle,
  buildBundle,
  decodeBundle,
  type Isolate,
  IsolateLauncher,
  SnapshotBuilder,
} from '../src/index.js';

const enc = new TextEncoder();
const source = (name: string) => `
from workers import Response

async def on_fetch(request, env):
    return Response("${name}")
`;

const bundles: Bundle[] = [];
const builder = new SnapshotBuilder();
const started: Isolate[] = [];
afterAll(async () => {
  await Promise.all(started.map((i) => i.close()));
  await builder.close();
});

beforeAll(async () => {
  for (const name of ['a', 'b', 'c', 'd', 'e']) {
    const files = new Map([['entry.py', enc.encode(source(name))]]);
    bundles.push(
      decodeBundle(await buildBundle({ name, mainModule: 'entry', files, vars: {} }, { builder })),
    );
  }
});

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(ok()).toBe(true);
}

async function answer(iso: Isolate): Promise<string> {
  const res = await iso.fetch({
    method: 'GET',
    url: 'http://x/',
    headers: [],
    body: new Uint8Array(),
  });
  return new TextDecoder().decode(res.body);
}

describe('a parked pool that grows under a burst of cold starts and shrinks after it', () => {
  it('grows by one per cold start that finds it empty, up to maxPoolSize, then swaps a burst', async () => {
    const launcher = new IsolateLauncher({ poolSize: 1, maxPoolSize: 3, shrinkAfterMs: 60_000 });
    try {
      await launcher.warm();
      expect(launcher.stats()).toMatchObject({ parked: 1, poolTarget: 1, misses: 0 });
      // Two cold starts at once: the second finds the pool empty.
      const [a, b] = await Promise.all([launcher.start(bundles[0]!), launcher.start(bundles[1]!)]);
      started.push(a, b);
      expect(await answer(a)).toBe('a');
      expect(await answer(b)).toBe('b');
      expect(launcher.stats()).toMatchObject({ poolTarget: 2, misses: 1 });
      await launcher.warm();
      expect(launcher.stats().parked).toBe(2);
      // The next burst of two finds two parked isolates: both swap, no miss.
      const swapsBefore = launcher.stats().swaps;
      const [c, d] = await Promise.all([launcher.start(bundles[2]!), launcher.start(bundles[3]!)]);
      started.push(c, d);
      expect([await answer(c), await answer(d)]).toEqual(['c', 'd']);
      expect(launcher.stats()).toMatchObject({ misses: 1, swaps: swapsBefore + 2 });
      // Never past maxPoolSize.
      for (const k of [0, 1, 2]) {
        const isos = await Promise.all([launcher.start(bundles[4]!), launcher.start(bundles[k]!)]);
        started.push(...isos);
      }
      expect(launcher.stats().poolTarget).toBe(3);
    } finally {
      await launcher.close();
    }
  });

  it('gives the extra parked isolates back once the burst is over', async () => {
    const launcher = new IsolateLauncher({ poolSize: 1, maxPoolSize: 2, shrinkAfterMs: 300 });
    try {
      await launcher.warm();
      const isos = await Promise.all([launcher.start(bundles[0]!), launcher.start(bundles[1]!)]);
      started.push(...isos);
      expect(launcher.stats().misses).toBe(1);
      // It grew to two, then (300 ms without a miss) gives one back: back to one parked.
      for (let i = 0; i < 100 && launcher.stats().poolTarget > 1; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await launcher.warm();
      await new Promise((r) => setTimeout(r, 100));
      expect(launcher.stats()).toMatchObject({ poolTarget: 1, parked: 1, booting: 0 });
    } finally {
      await launcher.close();
    }
  });

  it('parks one isolate per expected first cold start, then gives them back as they come', async () => {
    const launcher = new IsolateLauncher({ poolSize: 1, maxPoolSize: 3, shrinkAfterMs: 60_000 });
    try {
      await launcher.warm();
      // Three workers about to meet their first cold start: resolves with three parked.
      await launcher.anticipate(3);
      expect(launcher.stats()).toMatchObject({ poolTarget: 3, parked: 3, booting: 0 });
      // A burst of three first requests: every one swaps, none waits for a boot.
      const isos = await Promise.all(bundles.slice(0, 3).map((b) => launcher.start(b)));
      started.push(...isos);
      expect(await Promise.all(isos.map(answer))).toEqual(['a', 'b', 'c']);
      expect(launcher.stats()).toMatchObject({ swaps: 3, misses: 0, freshStarts: 0 });
      // They all came: back to poolSize, and the refill parks one, not three.
      expect(launcher.stats().poolTarget).toBe(1);
      await launcher.warm();
      await new Promise((r) => setTimeout(r, 300));
      expect(launcher.stats()).toMatchObject({ parked: 1, booting: 0 });
    } finally {
      await launcher.close();
    }
  });

  it('stops expecting first cold starts that do not come', async () => {
    const launcher = new IsolateLauncher({ poolSize: 1, maxPoolSize: 3, anticipateForMs: 200 });
    try {
      await launcher.warm();
      await launcher.anticipate(3);
      expect(launcher.stats()).toMatchObject({ poolTarget: 3, parked: 3 });
      await until(() => launcher.stats().poolTarget === 1);
      await until(() => launcher.stats().parked + launcher.stats().booting === 1);
      await launcher.warm();
      expect(launcher.stats()).toMatchObject({ parked: 1, booting: 0, swaps: 0 });
    } finally {
      await launcher.close();
    }
  });

  it('stays fixed without maxPoolSize', async () => {
    const launcher = new IsolateLauncher({ poolSize: 1 });
    try {
      await launcher.warm();
      const isos = await Promise.all([launcher.start(bundles[0]!), launcher.start(bundles[1]!)]);
      started.push(...isos);
      expect(launcher.stats()).toMatchObject({ poolTarget: 1, misses: 1 });
    } finally {
      await launcher.close();
    }
  });
});
