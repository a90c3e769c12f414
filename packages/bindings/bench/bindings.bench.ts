// Benchmark: per-operation latency of the bindings, side by side with the same operations on
// Miniflare (workerd's local simulators, npm `miniflare`) in one run, on this machine.
// Run: npm run bench -w @pyworkers/bindings   (BENCH_N sets operations per row, default 3000)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { openStore } from '../src/index.js';
import { MINIFLARE_WORKER } from './miniflare-worker.js';
import { pythonRows } from './python-worker.js';

const N = Number(process.env.BENCH_N ?? 3000);
const KEYS = 1000;
const PORT = 18300; // latency's bench range: 18300-18399

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

async function timeOps(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(200, n); i++) await op(i); // warm up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  return times;
}

const tmp = mkdtempSync(join(os.tmpdir(), 'pyworkers-bindings-bench-'));
const value = (i: number) => `value-${i}-${'x'.repeat(100)}`;

let python: Record<string, number[]> | undefined;

async function ours(durability: 'process' | 'fsync'): Promise<Record<string, number[]>> {
  const store = openStore({ stateDir: join(tmp, `ours-${durability}`), durability });
  const env = store.bindings([
    { type: 'kv', name: 'KV', id: 'bench' },
    { type: 'd1', name: 'DB', databaseName: 'bench' },
  ]);
  for (let i = 0; i < KEYS; i++) await env.call('KV', 'put', [`key-${i}`, value(i)]);
  await env.call('DB', 'run', [
    'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)',
  ]);
  await env.call('DB', 'batch', [
    Array.from({ length: KEYS }, (_, i) => ({
      sql: 'INSERT INTO users VALUES (?, ?, ?)',
      params: [i, `user ${i}`, `u${i}@example.com`],
    })),
  ]);
  const k = (i: number) => (i * 7919) % KEYS;
  const rows: Record<string, number[]> = {};
  const n = durability === 'fsync' ? Math.min(N, 500) : N;
  if (durability === 'process') {
    rows['kv-get'] = await timeOps(n, (i) => env.call('KV', 'get', [`key-${k(i)}`]));
    rows['d1-select'] = await timeOps(n, (i) =>
      env.call('DB', 'first', ['SELECT * FROM users WHERE id = ?', [k(i)]]),
    );
  }
  rows['kv-put'] = await timeOps(n, (i) => env.call('KV', 'put', [`put-${i % 100}`, `value-${i}`]));
  rows['d1-insert'] = await timeOps(n, (i) =>
    env.call('DB', 'run', [
      'INSERT OR REPLACE INTO users VALUES (?, ?, ?)',
      [10000 + (i % 100), 'n', 'e'],
    ]),
  );
  if (durability === 'process' && process.env.BENCH_PYTHON !== '0') {
    python = await pythonRows(env, ['kv-get', 'kv-put', 'd1-select', 'd1-insert'], N, KEYS);
  }
  await store.close();
  return rows;
}

async function miniflare(): Promise<Record<string, number>> {
  const mf = new Miniflare({
    modules: true,
    script: MINIFLARE_WORKER,
    host: '127.0.0.1',
    port: PORT,
    kvNamespaces: ['KV'],
    d1Databases: ['DB'],
    cf: false, // no fetch of Cloudflare's request.cf data: this machine reaches nothing outside
    kvPersist: join(tmp, 'mf-kv'),
    d1Persist: join(tmp, 'mf-d1'),
  });
  try {
    const url = await mf.ready;
    const once = async (op: string, n: number, from = 0) => {
      const res = await mf.dispatchFetch(
        new URL(`/?op=${op}&n=${n}&keys=${KEYS}&from=${from}`, url),
      );
      if (!res.ok) throw new Error(`miniflare ${op}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ n: number; ms: number }>;
    };
    /** Mean ms per operation over n operations. */
    const call = async (op: string, n: number) => {
      let ms = 0;
      for (let done = 0; done < n; done += 500) ms += (await once(op, Math.min(500, n - done))).ms;
      return ms / n;
    };
    for (let from = 0; from < KEYS; from += 500) await once('setup-kv', 0, from);
    await once('setup-d1', 0);
    const rows: Record<string, number> = {};
    for (const op of ['kv-get', 'd1-select', 'kv-put', 'd1-insert']) {
      await call(op, 200); // warm up
      rows[op] = await call(op, N);
    }
    return rows;
  } finally {
    await mf.dispose();
  }
}

const targets: Record<string, number> = { 'kv-get': 0.1, 'kv-put': 0.3, 'd1-select': 0.15 };
const labels: Record<string, string> = {
  'kv-get': 'KV get (hit, 1000 keys)',
  'kv-put': 'KV put (durable: kill -9 safe)',
  'd1-select': 'D1 point select (first by id)',
  'd1-insert': 'D1 insert (run)',
};

try {
  const started = Date.now();
  const [mine, fsync, mf] = [await ours('process'), await ours('fsync'), await miniflare()];
  const fmt = (x: number) => x.toFixed(4).padStart(8);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const cpu = os.cpus();
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(
    `bindings bench: ${N} ops per row, node ${process.version}, ${cpu.length} cores, ${cpu[0]?.model ?? ''}, load ${os.loadavg()[0]?.toFixed(1)}`,
  );
  say('host:      bindings.call() in the host process (the work behind one host call)');
  say(
    'python:    the same operations from a Python worker in a real Pyodide isolate, each one timed',
  );
  say('           around one awaited call of its self.env proxy (await env.KV.get(k), ...)');
  say(
    'miniflare: the same operations in a loop in a JS worker on workerd (persisted to disk); its',
  );
  say('           clock moves in 1 ms steps, so its figure is the mean over the loop');
  say();
  say(
    `${'operation'.padEnd(32)} ${'host p50'.padStart(8)} ${'py p50'.padStart(8)} ${'py p99'.padStart(8)} ${'py avg'.padStart(8)} ${'mf avg'.padStart(8)}  mf/py avg  target (py p50; ratio)`,
  );
  for (const op of ['kv-get', 'kv-put', 'd1-select', 'd1-insert']) {
    const host = mine[op] ?? [];
    const py = python?.[op] ?? [];
    const p50 = quantile(py, 0.5);
    const m = mf[op] ?? Number.NaN;
    const ratio = m / mean(py);
    const target = targets[op];
    const verdict =
      target === undefined || py.length === 0
        ? ''
        : `<= ${target} ms ${p50 <= target ? 'met' : 'MISSED'}; >=3x ${ratio >= 3 ? 'met' : 'MISSED'}`;
    say(
      `${(labels[op] ?? op).padEnd(32)} ${fmt(quantile(host, 0.5))} ${fmt(p50)} ${fmt(quantile(py, 0.99))} ${fmt(mean(py))} ${fmt(m)}  ${ratio.toFixed(1).padStart(8)}x  ${verdict}`,
    );
  }
  for (const op of ['kv-put', 'd1-insert']) {
    const a = fsync[op] ?? [];
    const label = op === 'kv-put' ? 'KV put, fsync (power-cut safe)' : 'D1 insert, fsync';
    say(
      `${label.padEnd(32)} ${fmt(quantile(a, 0.5))}   (host p50; p99 ${quantile(a, 0.99).toFixed(2)} ms)`,
    );
  }
  say(`\n(ms per operation; ${((Date.now() - started) / 1000).toFixed(1)} s)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
