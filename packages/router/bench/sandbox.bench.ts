// What the bubblewrap layer costs: a host process's start (spawn -> first answer, which
// includes restoring the baseline and the first cold start) and a cold start in a running host,
// with and without `sandbox: 'bwrap'`, interleaved rounds, medians.
// Run: npm run bench:sandbox -w @pyworkers/router   (needs bwrap on PATH)
import { readFileSync } from 'node:fs';
import { buildBundle, decodeBundle } from '@pyworkers/isolate';
import { findBwrap } from '../src/host/sandbox.js';
import { createRouter } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
if (!findBwrap()) throw new Error('bench:sandbox needs bwrap on PATH (apt-get install bubblewrap)');

const entry = readFileSync(
  new URL('../../../apps/edge/workers/hello/src/entry.py', import.meta.url),
);
const bundles = await Promise.all(
  ['first', 'second'].map(async (name) =>
    decodeBundle(
      await buildBundle({
        name,
        mainModule: 'entry',
        files: new Map([['entry.py', new Uint8Array(entry)]]),
        vars: { GREETING: 'Hello' },
      }),
    ),
  ),
);

async function round(sandbox: 'none' | 'bwrap'): Promise<{ start: number; cold: number }> {
  const router = createRouter({
    hostKind: 'process',
    hosts: 1,
    sandbox,
    workers: bundles.map((b) => ({
      name: b.manifest.name,
      routes: [{ pathPrefix: `/${b.manifest.name}` }],
      bundle: async () => b,
    })),
  });
  const t0 = performance.now();
  const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    await res.arrayBuffer();
  };
  await get('/first');
  const start = performance.now() - t0;
  const t1 = performance.now();
  await get('/second');
  const cold = performance.now() - t1;
  await router.close();
  return { start, cold };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = {
  none: { start: [] as number[], cold: [] as number[] },
  bwrap: { start: [] as number[], cold: [] as number[] },
};
await round('none'); // warm the snapshot cache and the OS page cache
for (let i = 0; i < ROUNDS; i++) {
  for (const mode of ['none', 'bwrap'] as const) {
    const r = await round(mode);
    results[mode].start.push(r.start);
    results[mode].cold.push(r.cold);
  }
}
console.log(
  `## Host processes with and without bubblewrap (${ROUNDS} interleaved rounds, medians)\n`,
);
console.log('| sandbox | host start to first answer (ms) | cold start in a running host (ms) |');
console.log('|---|---|---|');
for (const mode of ['none', 'bwrap'] as const) {
  console.log(
    `| ${mode} | ${median(results[mode].start).toFixed(0)} | ${median(results[mode].cold).toFixed(0)} |`,
  );
}
