// What the bubblewrap and seccomp layers cost: a host process's start (spawn -> first answer,
// which includes restoring the baseline and the first cold start) and a cold start in a running
// host, with no sandbox, `sandbox: 'bwrap'` without and with its seccomp filter, interleaved
// rounds, medians.
// Run: npm run bench:sandbox -w @pyworkers/router   (needs bwrap on PATH)
import { readFileSync } from 'node:fs';
import os from 'node:os';
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

type Mode = 'none' | 'bwrap' | 'bwrap+seccomp';
const MODES: Mode[] = ['none', 'bwrap', 'bwrap+seccomp'];

async function round(mode: Mode): Promise<{ start: number; cold: number }> {
  const router = createRouter({
    hostKind: 'process',
    hosts: 1,
    sandbox: mode === 'none' ? 'none' : 'bwrap',
    sandboxSeccomp: mode === 'bwrap+seccomp',
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
const results = Object.fromEntries(
  MODES.map((m) => [m, { start: [] as number[], cold: [] as number[] }]),
) as Record<Mode, { start: number[]; cold: number[] }>;
await round('none'); // warm the snapshot cache and the OS page cache
for (let i = 0; i < ROUNDS; i++) {
  for (const mode of MODES) {
    const r = await round(mode);
    results[mode].start.push(r.start);
    results[mode].cold.push(r.cold);
  }
}
console.log(
  `## Host processes with and without bubblewrap and seccomp (${ROUNDS} interleaved rounds, medians, load ${os.loadavg()[0]?.toFixed(1)})\n`,
);
console.log('| sandbox | host start to first answer (ms) | cold start in a running host (ms) |');
console.log('|---|---|---|');
for (const mode of MODES) {
  console.log(
    `| ${mode} | ${median(results[mode].start).toFixed(0)} | ${median(results[mode].cold).toFixed(0)} |`,
  );
}
