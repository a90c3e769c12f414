// What a cron tick or a queue batch costs through `router.dispatch`, next to an HTTP request
// to the same worker, from in-process and from child-process hosts (one run, interleaved).
// Run: npm run bench:events -w @pyworkers/router
import { buildBundle, decodeBundle, type QueueMessage } from '@pyworkers/isolate';
import { createRouter, type Router } from '../src/index.js';

const entry = `
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("hello")

    async def scheduled(self, controller, env, ctx):
        pass

    async def queue(self, batch, env, ctx):
        for msg in batch.messages:
            if msg.attempts > 1:
                msg.retry(delay_seconds=1)
`;
const bundle = decodeBundle(
  await buildBundle({
    name: 'events',
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
    vars: {},
  }),
);
const ROUNDS = 1000;
const WARMUP = 100;
const batch = (n: number): QueueMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    id: String(i),
    timestamp: Date.now(),
    body: { job: i, payload: 'x'.repeat(64) },
    attempts: 1 + (i % 2),
  }));
const batch10 = batch(10);
const batch100 = batch(100);

type Op = [string, (router: Router, base: string) => Promise<unknown>];
const ops: Op[] = [
  ['HTTP GET (fetch handler)', async (_r, base) => (await fetch(`${base}/`)).text()],
  [
    'scheduled event',
    (r) => r.dispatch('events', { type: 'scheduled', cron: '* * * * *', scheduledTime: 0 }),
  ],
  [
    'queue batch of 10',
    (r) => r.dispatch('events', { type: 'queue', queue: 'q', messages: batch10 }),
  ],
  [
    'queue batch of 100',
    (r) => r.dispatch('events', { type: 'queue', queue: 'q', messages: batch100 }),
  ],
];

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

for (const hostKind of ['local', 'process'] as const) {
  const router = createRouter({
    hostKind,
    hosts: 1,
    workers: [{ name: 'events', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
  });
  const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  const times = ops.map(() => [] as number[]);
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (const [i, [, op]] of ops.entries()) {
      const t0 = performance.now();
      await op(router, base);
      if (round >= WARMUP) times[i]!.push(performance.now() - t0);
    }
  }
  console.log(`\n${hostKind} host: ${ROUNDS} of each after ${WARMUP} warm-up, interleaved`);
  console.log('| operation | p50 ms | p99 ms | p50 vs HTTP GET |');
  console.log('| --- | --- | --- | --- |');
  const http50 = pct(times[0]!, 0.5);
  for (const [i, [name]] of ops.entries()) {
    const p50 = pct(times[i]!, 0.5);
    console.log(
      `| ${name} | ${p50.toFixed(3)} | ${pct(times[i]!, 0.99).toFixed(3)} | ${(p50 / http50).toFixed(2)} |`,
    );
  }
  await router.close();
}
