// Durable Objects from Python, p50 per operation, next to a JS Durable Object on Miniflare
// (workerd's local runtime, SQLite-backed, persisted), in one run on this machine:
//   - RPC from a worker to an object that lives in ANOTHER host process (router in between);
//   - storage get and put from inside the object. As on Cloudflare, an object's reads are
//     cached (it is the one writer of its keys) and `await put()` does not wait for the disk:
//     the object's answer does (the output gate). Rows with the host call / the commit each
//     time are printed too (Miniflare's getmiss is its cache, it has no way to skip it).
// Our figures are timed in Python (time.perf_counter around one awaited call); Miniflare's
// from outside, per batch (2,000-20,000 operations) minus an empty request (workerd's clock
// stands still inside); ours are also timed per batch of 500 inside Python, for a like-for-like
// row.
// Run: npm run bench:objects -w @pyworkers/router   (BENCH_N: operations per row, default 2000;
// BENCH_WARMUP: operations before each row, default 5000; BENCH_CPU=1: CPU per op by thread)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { idFromName } from '@pyworkers/bindings';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { Miniflare } from 'miniflare';
import { createRouter } from '../src/index.js';
import { objectHostIndex } from '../src/objects/placement.js';
import { cpuPerOp, threadTicks } from './thread-cpu.js';

const N = Number(process.env.BENCH_N ?? 2000);
// BENCH_RPC_ONLY=1: the RPC rows alone (no storage rows, no router row, no Miniflare), for quick A/B loops.
const RPC_ONLY = process.env.BENCH_RPC_ONLY === '1';
// BENCH_CPU=1: also CPU per operation by thread of each row's timed run (bench/thread-cpu.ts).
const CPU = process.env.BENCH_CPU === '1';
// Operations run before each row's timed run. An RPC's p50 falls for its first ~5,000 calls
// while V8 tiers up the hosts' JS and Pyodide's hot wasm (its helper threads compile; one run
// at load 4.6, p50 per block of 1,000 calls after 200: 0.78, 0.61, 0.47, 0.49, 0.43, 0.37,
// 0.38, 0.35 ms): the rows are the steady state after BENCH_WARMUP (BENCH_WARMUP=200: as before).
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
const KEYS = 1000;
const PORT = 18210; // objects' range: 18200-18299

const APP = `
import time
from workers import DurableObject, Response, WorkerEntrypoint


class Bench(DurableObject):
    async def ping(self):
        return 1

    async def setup(self):
        for start in range(0, ${KEYS}, 100):
            await self.ctx.storage.put({f"key-{i}": {"i": i, "name": f"value {i}"}
                                        for i in range(start, start + 100)})
        return True

    async def batches(self, op, n, size):
        # Miniflare's way: one timing per batch of \`size\` operations, the mean per operation.
        s = self.ctx.storage
        means = []
        for b in range(0, n, size):
            t = time.perf_counter()
            for i in range(b, b + size):
                if op == "get":
                    await s.get(f"key-{(i * 7919) % ${KEYS}}")
                elif op == "put":
                    await s.put(f"put-{i % 100}", {"i": i, "name": f"value {i}"})
                elif op == "noget":  # the get loop's own cost: the same key, no call
                    f"key-{(i * 7919) % ${KEYS}}"
                elif op == "noput":
                    f"put-{i % 100}", {"i": i, "name": f"value {i}"}
                else:
                    await s.put(f"put-{i % 100}", {"i": i, "name": f"value {i}"})
                    await s.sync()
            means.append((time.perf_counter() - t) * 1000 / size)
        return means

    async def loop(self, op, n):
        s = self.ctx.storage
        times = []
        for i in range(n):
            t = time.perf_counter()
            if op == "get":
                await s.get(f"key-{(i * 7919) % ${KEYS}}")
            elif op == "getmiss":
                s._cache.clear()  # bench only: forget what it read, so the host answers
                await s.get(f"key-{(i * 7919) % ${KEYS}}")
            elif op == "put":
                await s.put(f"put-{i % 100}", {"i": i, "name": f"value {i}"})
            else:
                await s.put(f"put-{i % 100}", {"i": i, "name": f"value {i}"})
                await s.sync()
            times.append((time.perf_counter() - t) * 1000)
        return times


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("app")
`;

const CALLER = `
import json, time
from urllib.parse import urlparse, parse_qs
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        q = parse_qs(urlparse(request.url).query)
        stub = self.env.BENCH.get_by_name(q["name"][0])
        op, n = q["op"][0], int(q["n"][0])
        if op == "where":
            return Response("ok")
        if op == "rpc":
            times = []
            for _ in range(n):
                t = time.perf_counter()
                await stub.ping()
                times.append((time.perf_counter() - t) * 1000)
            return Response(json.dumps(times))
        if op == "setup":
            return Response(json.dumps(await stub.setup()))
        if op.endswith("-batch"):
            return Response(json.dumps(await stub.batches(op[:-6], n, 500)))
        return Response(json.dumps(await stub.loop(op, n)))
`;

const MF_WORKER = `
import { DurableObject } from 'cloudflare:workers';
export class Bench extends DurableObject {
  ping() { return 1; }
  async setup() {
    for (let i = 0; i < ${KEYS}; i += 100) {
      const part = {};
      for (let j = i; j < i + 100; j++) part['key-' + j] = { i: j, name: 'value ' + j };
      await this.ctx.storage.put(part);
    }
    return true;
  }
  async loop(op, n) {
    const s = this.ctx.storage;
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      if (op === 'get' || op === 'getmiss') await s.get('key-' + ((i * 7919) % ${KEYS}));
      else await s.put('put-' + (i % 100), { i, name: 'value ' + i });
      if (op === 'putsync') await s.sync();
    }
    return Date.now() - started;
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const op = url.searchParams.get('op');
    const n = Number(url.searchParams.get('n'));
    const stub = env.BENCH.get(env.BENCH.idFromName('bench'));
    if (op === 'setup') return Response.json(await stub.setup());
    if (op === 'rpc') {
      const started = Date.now();
      for (let i = 0; i < n; i++) await stub.ping();
      return Response.json({ ms: Date.now() - started });
    }
    return Response.json({ ms: await stub.loop(op, n) });
  },
};`;

const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;

async function bundleOf(name: string, source: string, objects: boolean): Promise<Bundle> {
  return decodeBundle(
    await buildBundle({
      name,
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(source)]]),
      vars: {},
      bindings: objects
        ? {
            bindings: [{ type: 'durable_object_namespace', name: 'BENCH', className: 'Bench' }],
            durableObjects: { classes: ['Bench'], migrations: [] },
          }
        : {
            bindings: [
              {
                type: 'durable_object_namespace',
                name: 'BENCH',
                className: 'Bench',
                scriptName: 'app',
              },
            ],
          },
    }),
  );
}

async function ours(
  hostKind: 'process' | 'local',
  viaRouter = false,
): Promise<{ rows: Record<string, number[]>; hosts: string }> {
  const stateDir = mkdtempSync(join(os.tmpdir(), 'pyw-objects-bench-'));
  const [app, caller] = await Promise.all([
    bundleOf('app', APP, true),
    bundleOf('caller', CALLER, false),
  ]);
  const state = { stateDir, projectDir: stateDir };
  // viaRouter: no direct channel between host processes (the calls take the router hop).
  const before = process.env.PYWORKERS_PEER_CHANNEL;
  if (viaRouter) process.env.PYWORKERS_PEER_CHANNEL = '0';
  const router = createRouter({
    hostKind,
    hosts: 2,
    eventSources: false,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    workers: [
      { name: 'caller', routes: [{ pathPrefix: '/' }], bundle: async () => caller, state },
      { name: 'app', routes: [{ pathPrefix: '/app' }], bundle: async () => app, state },
    ],
  });
  if (before === undefined) delete process.env.PYWORKERS_PEER_CHANNEL;
  else process.env.PYWORKERS_PEER_CHANNEL = before;
  try {
    const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
    const run = async (op: string, name: string, n = 0): Promise<unknown> => {
      const res = await fetch(`http://127.0.0.1:${port}/?op=${op}&name=${name}&n=${n}`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${op}: ${res.status} ${text}`);
      return op === 'where' ? text : JSON.parse(text);
    };
    // Where the caller runs, then an object whose id hashes to the other host process.
    await run('where', 'x');
    const status = await router.status();
    const callerHost = status.hosts.findIndex((h) =>
      h.workers.some((w) => w.worker === 'caller' && w.isolates > 0),
    );
    const pick = (same: boolean): string => {
      for (let i = 0; ; i++) {
        const n = `bench-${i}`;
        if ((objectHostIndex(idFromName('app/Bench', n), 2) === callerHost) === same) return n;
      }
    };
    const name = pick(false);
    await run('setup', name);
    const rows: Record<string, number[]> = {};
    // A row's timed run, with its CPU by thread when BENCH_CPU=1 (printed to stderr).
    const timedRun = async (op: string, on: string, row: string): Promise<void> => {
      const before = CPU ? threadTicks() : undefined;
      rows[row] = (await run(op, on, N)) as number[];
      if (!before) return;
      const label = (pid: number): string =>
        pid === process.pid ? 'bench + router' : hostKind === 'local' ? 'other' : 'host process';
      const lines = cpuPerOp(before, threadTicks(), N, label);
      process.stderr.write(`CPU per op, ${hostKind} hosts, ${row}:\n${lines.join('\n')}\n`);
    };
    for (const op of viaRouter || RPC_ONLY
      ? ['rpc']
      : ['rpc', 'get', 'getmiss', 'put', 'putsync']) {
      await run(op, name, WARMUP);
      await timedRun(op, name, op);
    }
    for (const op of viaRouter || RPC_ONLY ? [] : ['get', 'put', 'putsync', 'noget', 'noput']) {
      await run(`${op}-batch`, name, 500);
      await timedRun(`${op}-batch`, name, `${op}-batch`);
    }
    // An object whose id hashes to the caller's own host process: the call stays there.
    const near = pick(true);
    await run('rpc', near, WARMUP);
    await timedRun('rpc', near, 'rpcnear');
    return { rows, hosts: `caller on host ${callerHost}, object on host ${1 - callerHost}` };
  } finally {
    await router.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function miniflare(): Promise<Record<string, number>> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'pyw-objects-bench-mf-'));
  const mf = new Miniflare({
    modules: true,
    script: MF_WORKER,
    compatibilityDate: '2025-11-02',
    host: '127.0.0.1',
    port: PORT,
    cf: false,
    durableObjects: { BENCH: { className: 'Bench', useSQLite: true } },
    durableObjectsPersist: tmp,
  });
  try {
    const url = await mf.ready;
    const run = async (op: string, n: number) => {
      const res = await mf.dispatchFetch(new URL(`/?op=${op}&n=${n}`, url));
      if (!res.ok) throw new Error(`miniflare ${op}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { ms: number };
    };
    await run('setup', 0);
    // workerd's clock stands still between I/O (its Spectre mitigation) and a Durable Object's
    // storage is in-process, so it cannot time its own loop: we time each batch from here and
    // take off the cost of the same request with no operations in it.
    const timed = async (op: string, n: number): Promise<number> => {
      const t = performance.now();
      await run(op, n);
      return performance.now() - t;
    };
    const out: Record<string, number> = {};
    // Batches big enough that the empty request's jitter (~0.5 ms) is small next to them: a
    // cached get is ~0.005 ms, so 500 of them (2.5 ms) was within that jitter.
    const BATCH: Record<string, number> = {
      rpc: 5000,
      get: 20000,
      getmiss: 20000,
      put: 20000,
      putsync: 2000,
    };
    for (const op of ['rpc', 'get', 'getmiss', 'put', 'putsync']) {
      const size = BATCH[op]!;
      await run(op, 200);
      const empty: number[] = [];
      const full: number[] = [];
      for (let i = 0; i < 5; i++) {
        empty.push(await timed(op, 0));
        full.push(await timed(op, size));
      }
      out[op] = Math.max(0, quantile(full, 0.5) - quantile(empty, 0.5)) / size;
    }
    return out;
  } finally {
    await mf.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const loadBefore = os.loadavg()[0] ?? 0;
const mine = await ours('process');
const routed = RPC_ONLY ? { rows: {} as Record<string, number[]> } : await ours('process', true);
const local = await ours('local');
const mf = RPC_ONLY ? ({} as Record<string, number>) : await miniflare();
const say = (line = '') => process.stdout.write(`${line}\n`);
say(
  `objects bench: ${N} ops per row after ${WARMUP} of warm-up, node ${process.version}, ${os.cpus().length} cores, load ${loadBefore.toFixed(1)} -> ${(os.loadavg()[0] ?? 0).toFixed(1)}`,
);
say(`pyworkers: Python Durable Object, 2 host processes (${mine.hosts})`);
say('local:     the same with both hosts in the router process (no IPC hop; for comparison)');
say(
  'miniflare: JS Durable Object on workerd (SQLite-backed, persisted), mean per op, 5 batches of 2,000-20,000 minus an empty request',
);
say();
say(
  `${'operation'.padEnd(40)} ${'ours p50'.padStart(9)} ${'ours p99'.padStart(9)} ${'local p50'.padStart(9)} ${'mf mean'.padStart(9)} ${'mf/ours'.padStart(8)}`,
);
for (const [op, label] of [
  ['rpc', 'RPC stub.ping() (other host process)'],
  ['rpcnear', "RPC stub.ping() (caller's host process)"],
  ['get', 'storage.get (1000 keys, cached)'],
  ['getmiss', 'storage.get (not cached: host call)'],
  ['put', 'storage.put (durable at the output gate)'],
  ['putsync', 'storage.put + await sync() (durable)'],
  ['get-batch', 'storage.get, mean in batches of 500'],
  ['put-batch', 'storage.put, mean in batches of 500'],
  ['putsync-batch', 'put + sync(), mean in batches of 500'],
  ['noget-batch', 'the get loop alone (no call), per op'],
  ['noput-batch', 'the put loop alone (no call), per op'],
] as const) {
  const h = mine.rows[op] ?? [];
  const p50 = quantile(h, 0.5);
  const m = mf[op === 'rpcnear' ? 'rpc' : op.replace('-batch', '')] ?? Number.NaN;
  say(
    `${label.padEnd(40)} ${p50.toFixed(4).padStart(9)} ${quantile(h, 0.99).toFixed(4).padStart(9)} ${quantile(
      local.rows[op] ?? [],
      0.5,
    )
      .toFixed(4)
      .padStart(9)} ${m.toFixed(4).padStart(9)} ${(m / p50).toFixed(1).padStart(7)}x`,
  );
}
{
  const h = routed.rows.rpc ?? [];
  say(
    `${'RPC, other host process, via the router'.padEnd(40)} ${quantile(h, 0.5).toFixed(4).padStart(9)} ${quantile(h, 0.99).toFixed(4).padStart(9)}   (PYWORKERS_PEER_CHANNEL=0: before the direct channel)`,
  );
}
say('\n(ms per operation; goals: RPC <= 0.5, get <= 0.1, put <= 0.3, each >= 3x Miniflare)');
say(
  '(the "mean in batches" rows are timed as Miniflare is: one timing per batch of 500, p50 of the batch means)',
);
