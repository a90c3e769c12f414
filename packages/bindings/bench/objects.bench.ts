// Benchmark: Durable Object storage get and put, p50, our host side next to a JS Durable Object
// on Miniflare (workerd's local runtime, persisted to disk), in one run on this machine.
// Run: npm run bench:objects -w @pyworkers/bindings   (BENCH_N sets operations per row, default 3000)
// RPC to an object in another host process, and storage from inside a Python object:
// packages/router/bench/objects.bench.ts (npm run bench:objects -w @pyworkers/router).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { openStore } from '../src/index.js';

const N = Number(process.env.BENCH_N ?? 3000);
const KEYS = 1000;
const PORT = 18800; // objects' range: 18800+

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

async function timeOps(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(200, n); i++) await op(i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  return times;
}

const WORKER = `
export class Bench {
  constructor(ctx) { this.ctx = ctx; }
  async fetch(request) {
    const url = new URL(request.url);
    const op = url.searchParams.get('op');
    const n = Number(url.searchParams.get('n'));
    const s = this.ctx.storage;
    if (op === 'setup') {
      const entries = {};
      for (let i = 0; i < ${KEYS}; i++) entries['key-' + i] = { i, name: 'value ' + i };
      for (let i = 0; i < ${KEYS}; i += 100) {
        const part = {};
        for (let j = i; j < i + 100; j++) part['key-' + j] = entries['key-' + j];
        await s.put(part);
      }
      return Response.json({ ok: true });
    }
    const times = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      if (op === 'get') await s.get('key-' + ((i * 7919) % ${KEYS}));
      else await s.put('put-' + (i % 100), { i, name: 'value ' + i });
      if (op === 'putsync') await s.sync();
      times.push(performance.now() - t);
    }
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      if (op === 'get') await s.get('key-' + ((i * 7919) % ${KEYS}));
      else await s.put('put-' + (i % 100), { i, name: 'value ' + i });
      if (op === 'putsync') await s.sync();
    }
    return Response.json({ ms: Date.now() - started, n });
  }
}
export default {
  fetch(request, env) {
    return env.BENCH.get(env.BENCH.idFromName('bench')).fetch(request);
  },
};`;

async function ours(
  durability: 'process' | 'fsync' = 'process',
): Promise<Record<string, number[]>> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'pyw-do-bench-'));
  const store = openStore({ stateDir: tmp, durability });
  const ns = store.durableObjects('bench', 'Bench');
  const s = ns.storage(ns.idFromName('bench'));
  for (let i = 0; i < KEYS; i += 100) {
    const part: Record<string, unknown> = {};
    for (let j = i; j < i + 100; j++) part[`key-${j}`] = { i: j, name: `value ${j}` };
    await s.put(part);
  }
  const rows = {
    get: await timeOps(N, (i) => s.get(`key-${(i * 7919) % KEYS}`)),
    put: await timeOps(N, (i) => s.put(`put-${i % 100}`, { i, name: `value ${i}` })),
  };
  await store.close();
  rmSync(tmp, { recursive: true, force: true });
  return rows;
}

async function miniflare(): Promise<Record<string, number>> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'pyw-do-bench-mf-'));
  const mf = new Miniflare({
    modules: true,
    script: WORKER,
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
      return (await res.json()) as { ms: number; n: number };
    };
    await run('setup', 0);
    const out: Record<string, number> = {};
    for (const op of ['get', 'put', 'putsync']) {
      await run(op, 200);
      let ms = 0;
      for (let done = 0; done < N; done += 500) ms += (await run(op, Math.min(500, N - done))).ms;
      out[op] = ms / N;
    }
    return out;
  } finally {
    await mf.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const mine = await ours();
// workerd's sync() fsyncs the object's WAL (strace: one fsync per put + sync()); ours does with
// durability 'fsync' (synchronous=FULL), while the default 'process' leaves it to the OS.
const fsynced = await ours('fsync');
const mf = await miniflare();
const cpu = os.cpus();
const say = (line = '') => process.stdout.write(`${line}\n`);
say(
  `objects bench: ${N} ops per row, node ${process.version}, ${cpu.length} cores, load ${os.loadavg()[0]?.toFixed(1)}`,
);
say('host:      DurableObjectStorage in the host process (the work behind one storage call)');
say('miniflare: ctx.storage in a JS Durable Object on workerd (SQLite-backed, persisted); its');
say('           clock moves in 1 ms steps, so its figure is the mean over a loop');
say();
say(
  `${'operation'.padEnd(34)} ${'host p50'.padStart(9)} ${'host p99'.padStart(9)} ${'mf avg'.padStart(9)}`,
);
for (const [op, label, rows, mfOp] of [
  ['get', 'storage.get (hit, 1000 keys)', mine, 'get'],
  ['put', 'storage.put (kill -9 safe)', mine, 'put'],
  ['put', 'storage.put, fsync per commit', fsynced, 'putsync'],
] as const) {
  const h = rows[op] ?? [];
  say(
    `${label.padEnd(34)} ${quantile(h, 0.5).toFixed(4).padStart(9)} ${quantile(h, 0.99).toFixed(4).padStart(9)} ${(mf[mfOp] ?? Number.NaN).toFixed(4).padStart(9)}`,
  );
}
say('(Miniflare: get; put (coalesced, fsynced at its output gate); put + sync() (an fsync each))');
say('\n(ms per operation)');
