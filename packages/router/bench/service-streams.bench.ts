// What a streamed response body costs through a service binding: a client asks the caller
// worker, which answers with `await env.TARGET.fetch(...)` (or reads it itself); the target
// streams its body. Time to first byte for a target that yields "first", sleeps 1.5 s and
// yields "second"; MB/s of a 100 MiB body passed on to the client, and read whole by the
// caller (`await res.bytes()`). Timed at the client over real HTTP on 127.0.0.1.
// Run: npm run bench:service-streams -w @pyworkers/router   (BENCH_ROUNDS=5, BENCH_MIB=100,
// BENCH_HOSTS=local|one for an in-process host or one host process; default two processes)
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { createRouter } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MIB = Number(process.env.BENCH_MIB ?? 100);

const target = `
import asyncio
from workers import Response, WorkerEntrypoint

CHUNK = bytes(range(256)) * 4096  # 1 MiB


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path == "slow":
            async def body():
                yield "first"
                await asyncio.sleep(1.5)
                yield "second"
            return Response(body())
        mib = int(path.split("/")[1])
        async def body():
            for _ in range(mib):
                yield CHUNK
        return Response(body())
`;

const caller = `
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path.startswith("read/"):
            res = await self.env.TARGET.fetch("https://target/big/" + path.split("/")[1])
            return Response(str(len(await res.bytes())))
        return await self.env.TARGET.fetch("https://target/" + path)
`;

async function bundleOf(name: string, source: string, service?: string): Promise<Bundle> {
  return decodeBundle(
    await buildBundle({
      name,
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(source)]]),
      vars: {},
      bindings: { bindings: service ? [{ type: 'service', name: 'TARGET', service }] : [] },
    }),
  );
}

const [targetBundle, callerBundle] = await Promise.all([
  bundleOf('target', target),
  bundleOf('caller', caller, 'target'),
]);
const router = createRouter({
  ...(process.env.BENCH_HOSTS === 'local'
    ? { hostKind: 'local' as const, hosts: 1 }
    : { hostKind: 'process' as const, hosts: process.env.BENCH_HOSTS === 'one' ? 1 : 2 }),
  eventSources: false,
  workers: [
    { name: 'caller', routes: [{ pathPrefix: '/' }], bundle: async () => callerBundle },
    { name: 'target', routes: [{ pathPrefix: '/target' }], bundle: async () => targetBundle },
  ],
});
const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${port}`;

/** Time to the first body chunk and to the end, and the bytes, of GET `path`. */
async function timed(path: string): Promise<{ first: number; total: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/${path}`);
  let first = 0;
  let bytes = 0;
  let text = '';
  for await (const chunk of res.body!) {
    if (!first) first = performance.now() - t0;
    bytes += chunk.byteLength;
    if (res.status !== 200 || bytes < 64) text += Buffer.from(chunk).toString();
  }
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text}`);
  return { first, total: performance.now() - t0, bytes: path.startsWith('read/') ? +text : bytes };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
// Warm both workers (and the paths) first.
await timed('big/1');
await timed('read/1');
// Which host holds each worker: within one host process a call stays there (no router hop).
const where = new Map<string, number[]>();
for (const host of (await router.status()).hosts ?? [])
  for (const w of host.workers ?? [])
    where.set(w.worker, [...(where.get(w.worker) ?? []), host.id]);
const load = loadavg()[0]!.toFixed(2);
const ttfb: number[] = [];
const ends: number[] = [];
const pass: number[] = [];
const read: number[] = [];
const failures: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const slow = await timed('slow');
  ttfb.push(slow.first);
  ends.push(slow.total);
  for (const [path, into] of [
    [`big/${MIB}`, pass],
    [`read/${MIB}`, read],
  ] as const) {
    try {
      const t = await timed(path);
      if (t.bytes !== MIB * 1024 * 1024) throw new Error(`${path}: ${t.bytes} bytes`);
      into.push((MIB * 1.048576) / (t.total / 1000));
    } catch (err) {
      failures.push((err as Error).message.slice(0, 200));
    }
  }
}
// Peak RSS (VmHWM) of the router (this process) and of each host process, over the run.
const peak = (pid: number | 'self'): number =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const hostPeaks = ((await router.status()).hosts ?? [])
  .filter((h) => h.kind === 'process')
  .map((h) => peak(h.pid).toFixed(0));
await router.close();
const fmt = (xs: number[], digits: number): string =>
  xs.length ? median(xs).toFixed(digits) : 'failed';
console.log(
  `service-binding streams, ${process.env.BENCH_HOSTS ?? 'two host processes'} (caller on host ${where.get('caller')}, target on ${where.get('target')}); ${ROUNDS} rounds, medians; load ${load} at start`,
);
console.log(`| 1.5 s-sleep target: time to first byte | ${fmt(ttfb, 0)} ms |`);
console.log(`| 1.5 s-sleep target: time to the end | ${fmt(ends, 0)} ms |`);
console.log(`| ${MIB} MiB passed on to the client | ${fmt(pass, 0)} MB/s |`);
console.log(`| ${MIB} MiB read whole by the caller (bytes()) | ${fmt(read, 0)} MB/s |`);
console.log(
  `| peak RSS: router ${peak('self').toFixed(0)} MiB${hostPeaks.length ? `, host processes ${hostPeaks.join(', ')} MiB` : ''} |`,
);
if (failures.length) console.log(`failures: ${[...new Set(failures)].join(' / ')}`);
process.exit(0);
