// What a call from one Python worker to another costs over a service binding (RPC and fetch,
// through the router, the target in another host process), next to the same worker fetching
// the target over HTTP. Timed inside the caller's Python, one run, interleaved.
// Run: npm run bench:services -w @pyworkers/router   (BENCH_N=2000 for more rounds)
import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { createRouter } from '../src/index.js';

const N = Number(process.env.BENCH_N ?? 1000);
const WARMUP = 100;

const target = `
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("pong")

    async def ping(self, n):
        return n

    async def echo(self, value):
        return value
`;

const caller = `
import json
import time
from urllib.parse import parse_qs, urlparse
from workers import Response, WorkerEntrypoint, fetch

PAYLOAD = {"id": 7, "name": "widget", "tags": ["a", "b", "c"], "price": 9.5, "ok": True}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        q = parse_qs(urlparse(request.url).query)
        n, warm, http = int(q["n"][0]), int(q["warm"][0]), q["http"][0]
        svc = self.env.TARGET
        ops = {
            "RPC ping(i) -> int": lambda i: svc.ping(i),
            "RPC echo(dict of 5 keys)": lambda i: svc.echo(PAYLOAD),
            "service binding fetch": lambda i: svc.fetch("https://target/"),
            "HTTP fetch to the target (via the router)": lambda i: fetch(http),
        }
        times = {name: [] for name in ops}
        for i in range(warm + n):
            for name, op in ops.items():
                t0 = time.perf_counter()
                res = await op(i)
                if hasattr(res, "text"):
                    await res.text()
                if i >= warm:
                    times[name].append((time.perf_counter() - t0) * 1000)
        return Response(json.dumps({k: [pct(v, 0.5), pct(v, 0.99)] for k, v in times.items()}))
`;

async function bundleOf(name: string, source: string, service?: string): Promise<Bundle> {
  return decodeBundle(
    await buildBundle({
      name,
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(source)]]),
      vars: {},
      bindings: {
        bindings: service ? [{ type: 'service', name: 'TARGET', service }] : [],
      },
    }),
  );
}

const [targetBundle, callerBundle] = await Promise.all([
  bundleOf('target', target),
  bundleOf('caller', caller, 'target'),
]);
const router = createRouter({
  // BENCH_HOSTS=local: both workers on one in-process host (no IPC); =one: both in one host
  // process (calls stay in it once the target is warm there); default: two host processes.
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
// Both workers warm first, then find which host process holds each.
await (await fetch(`${base}/target/`)).text();
await (await fetch(`${base}/?n=1&warm=0&http=${base}/target/`)).text();
const where = new Map<string, number[]>();
for (const host of (await router.status()).hosts ?? [])
  for (const w of host.workers ?? [])
    where.set(w.worker, [...(where.get(w.worker) ?? []), host.pid]);
const load = loadavg()[0]!.toFixed(2);
const res = await fetch(`${base}/?n=${N}&warm=${WARMUP}&http=${base}/target/`);
const figures = (await res.json()) as Record<string, [number, number]>;
const http = figures['HTTP fetch to the target (via the router)']![0];
const cpu = execSync("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").toString().trim();
console.log(
  `\ncaller (pid ${where.get('caller')}) -> target (pid ${where.get('target')}), host processes; ${N} of each after ${WARMUP} warm-up, interleaved, timed in the caller's Python; load ${load} at start; ${cpu}`,
);
console.log('| call from the caller worker | p50 ms | p99 ms | p50 vs HTTP fetch |');
console.log('| --- | --- | --- | --- |');
for (const [name, [p50, p99]] of Object.entries(figures))
  console.log(`| ${name} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ${(p50 / http).toFixed(2)} |`);
// The router's part alone: router.deliver from this process to the target's host process.
const hop = (method: string, args: unknown[]) => () =>
  router.deliver({
    from: 'bench',
    binding: 'TARGET',
    target: { kind: 'service', service: 'target' },
    method,
    args,
  });
const direct: [string, () => Promise<unknown>][] = [
  ['router.deliver ping(i) (router -> target host process -> router)', hop('ping', [1])],
  [
    'router.dispatch scheduled-like rpc event, same path',
    () => router.dispatch('target', { type: 'rpc', method: 'ping', args: [1] }),
  ],
];
const times = direct.map(() => [] as number[]);
for (let round = 0; round < WARMUP + N; round++)
  for (const [i, [, op]] of direct.entries()) {
    const t0 = performance.now();
    await op();
    if (round >= WARMUP) times[i]!.push(performance.now() - t0);
  }
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
console.log('\n| from the router process (no calling worker) | p50 ms | p99 ms |');
console.log('| --- | --- | --- |');
for (const [i, [name]] of direct.entries())
  console.log(
    `| ${name} | ${pct(times[i]!, 0.5).toFixed(3)} | ${pct(times[i]!, 0.99).toFixed(3)} |`,
  );
console.log(`load at end: ${loadavg()[0]!.toFixed(2)}`);
await router.close();
