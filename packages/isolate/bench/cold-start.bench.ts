// Cold start, side by side in one run: native python3, stock Pyodide (plain and `_loadSnapshot`),
// and ours (fresh restore, and the parked pool with the in-place swap). Plus warm request
// latency and idle isolate memory. Run: npm run bench -w @pyworkers/isolate
import { execFile } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { Bundle, Isolate as IsolateT } from '../src/index.js';

// The published build by default (what users run: isolates load plain JS, no tsx in each
// thread); BENCH_FROM_SRC=1 measures the sources. The script builds dist first.
const lib: typeof import('../src/index.js') = await import(
  process.env.BENCH_FROM_SRC ? '../src/index.js' : ('../dist/index.js' as string)
);
const { buildBundle, decodeBundle, Isolate, IsolateLauncher, loadBaseline } = lib;

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const PLAIN_RUNS = Number(process.env.BENCH_PLAIN_RUNS ?? 3);

const STDLIB_30 = [
  'json',
  're',
  'math',
  'random',
  'datetime',
  'collections',
  'itertools',
  'functools',
  'typing',
  'dataclasses',
  'enum',
  'decimal',
  'fractions',
  'statistics',
  'textwrap',
  'string',
  'base64',
  'hashlib',
  'hmac',
  'uuid',
  'urllib.parse',
  'http.client',
  'email.message',
  'html.parser',
  'xml.etree.ElementTree',
  'csv',
  'struct',
  'zlib',
  'asyncio',
  'logging',
];

interface Case {
  name: string;
  imports: string[];
}
const CASES: Case[] = [
  { name: 'hello', imports: [] },
  { name: '30 stdlib imports', imports: STDLIB_30 },
];

const importLine = (c: Case) => (c.imports.length ? `import ${c.imports.join(', ')}\n` : '');
const handlerSource = (c: Case) => `${importLine(c)}def handler():\n    return "hello"\n`;
const workerSource = (c: Case) =>
  `${importLine(c)}from workers import Response\n\nasync def on_fetch(request, env):\n    return Response("hello")\n`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const p = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
};

async function times(n: number, once: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await once());
  return out;
}

function runWorker(file: string, data: object, transfer: ArrayBuffer[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(file, import.meta.url), {
      workerData: data,
      transferList: transfer,
    });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

async function native(c: Case): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) =>
    execFile('python3', ['-c', `${handlerSource(c)}print(handler())`], (err, out) =>
      err || out.trim() !== 'hello' ? reject(err ?? new Error(out)) : resolve(),
    ),
  );
  return performance.now() - t0;
}

async function stock(c: Case, snapshot?: Uint8Array): Promise<number> {
  const t0 = performance.now();
  const copy = snapshot?.slice();
  const result = await runWorker(
    './pyodide-worker.mjs',
    { mode: copy ? 'snapshot' : 'plain', code: handlerSource(c), snapshot: copy },
    copy ? [copy.buffer as ArrayBuffer] : [],
  );
  if (result !== 'hello') throw new Error(`unexpected ${String(result)}`);
  return performance.now() - t0;
}

const request = { method: 'GET', url: 'http://127.0.0.1/', headers: [], body: new Uint8Array() };

const phases: Record<string, number[]> = {};
const idlePhases: Record<string, number[]> = {};

async function ours(start: () => Promise<IsolateT>, kind?: 'idle'): Promise<number> {
  const t0 = performance.now();
  const iso = await start();
  const t1 = performance.now();
  const res = await iso.fetch(request);
  const ms = performance.now() - t0;
  if (iso.swapped) {
    const record = {
      ...iso.bootPhases,
      'ready (parent)': t1 - t0,
      'first request': ms - (t1 - t0),
    };
    const into = kind === 'idle' ? idlePhases : phases;
    for (const [k, v] of Object.entries(record)) {
      into[k] ??= [];
      into[k].push(v);
    }
  }
  if (new TextDecoder().decode(res.body) !== 'hello') throw new Error('unexpected body');
  await iso.close();
  return ms;
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${RUNS} runs (plain loadPyodide: ${PLAIN_RUNS}), isolate code from ${process.env.BENCH_FROM_SRC ? 'src' : 'dist'}`,
  );
  await loadBaseline();
  const rows: Record<string, Record<string, number[]>> = {};
  const launcher = new IsolateLauncher({ poolSize: 1 });
  const bundles = new Map<string, Bundle>();
  for (const c of CASES) {
    const bundle = decodeBundle(
      await buildBundle({
        name: c.name,
        mainModule: 'entry',
        files: new Map([['entry.py', new TextEncoder().encode(workerSource(c))]]),
        vars: {},
      }),
    );
    bundles.set(c.name, bundle);
    const stockSnap = (await runWorker('./make-pyodide-snapshot.mjs', {
      code: handlerSource(c),
    })) as Uint8Array;
    const row: Record<string, number[]> = {};
    row['native python3 process'] = await times(RUNS, () => native(c));
    row['stock loadPyodide() in a new worker'] = await times(PLAIN_RUNS, () => stock(c));
    row['stock loadPyodide({_loadSnapshot}) in a new worker'] = await times(RUNS, () =>
      stock(c, stockSnap),
    );
    row['ours: Isolate.start (fresh thread, shared Module)'] = await times(RUNS, () =>
      ours(() => Isolate.start(bundle)),
    );
    row['ours: IsolateLauncher cold start (parked + swap)'] = await times(RUNS, async () => {
      await launcher.warm(); // the refill happens between requests, off the request path
      return ours(() => launcher.start(bundle));
    });
    // The same, once the parked isolate has been idle a while (as on a server between cold
    // starts): the row above meets it straight after its boot, with V8's post-boot work pending.
    row['ours: same, parked isolate idle 0.5 s'] = await times(RUNS, async () => {
      await launcher.warm();
      await new Promise((r) => setTimeout(r, 500));
      return ours(() => launcher.start(bundle), 'idle');
    });
    rows[c.name] = row;
  }

  console.log('\nCold start: request for a worker with no warm isolate -> handler result (ms)');
  const names = Object.keys(rows[CASES[0]!.name]!);
  const ourKey = 'ours: IsolateLauncher cold start (parked + swap)';
  const header = ['path', ...CASES.flatMap((c) => [`${c.name} p50`, 'min', 'x ours'])];
  const table = names.map((n) => [
    n,
    ...CASES.flatMap((c) => {
      const xs = rows[c.name]![n]!;
      const ourMed = median(rows[c.name]![ourKey]!);
      return [median(xs).toFixed(1), Math.min(...xs).toFixed(1), (median(xs) / ourMed).toFixed(1)];
    }),
  ]);
  printTable(header, table);
  console.log(
    `\nParked + swap, medians over both workers (ms): ${Object.entries(phases)
      .map(([k, v]) => `${k} ${median(v).toFixed(1)}`)
      .join(', ')}`,
  );
  console.log(
    `Parked isolate idle 0.5 s first, medians (ms): ${Object.entries(idlePhases)
      .map(([k, v]) => `${k} ${median(v).toFixed(1)}`)
      .join(', ')}`,
  );

  // Warm requests: round trip parent -> isolate -> parent (an upper bound on time inside it).
  await launcher.warm();
  const warmIso = await launcher.start(bundles.get('hello')!);
  for (let i = 0; i < 50; i++) await warmIso.fetch(request);
  const warm = await times(500, async () => {
    const t0 = performance.now();
    await warmIso.fetch(request);
    return performance.now() - t0;
  });
  console.log(
    `\nWarm request round trip (hello, 500 requests): p50 ${median(warm).toFixed(3)} ms, p99 ${p(warm, 0.99).toFixed(3)} ms`,
  );
  console.log(
    `Isolate-reported memory (hello): ${(warmIso.memoryBytes() / 2 ** 20).toFixed(1)} MiB (wasm heap + V8 heap)`,
  );
  await warmIso.close();
  await launcher.close();

  // Idle memory: RSS growth of this process per isolate.
  const K = 3;
  const rss = async () => {
    gc();
    await new Promise((r) => setTimeout(r, 500));
    gc();
    return process.memoryUsage().rss;
  };
  const before = await rss();
  const pool = new IsolateLauncher({ poolSize: K });
  await pool.warm();
  const parked = await rss();
  const isolates: IsolateT[] = [];
  for (let i = 0; i < K; i++) isolates.push(await pool.start(bundles.get('hello')!));
  await pool.close(); // stop the refill: only the K swapped isolates remain
  for (const iso of isolates) await iso.fetch(request);
  const swapped = await rss();
  const mb = (b: number) => (b / K / 2 ** 20).toFixed(1);
  console.log(
    `\nIdle memory, RSS growth per isolate (${K} isolates): parked ${mb(parked - before)} MB, hello worker after one request ${mb(swapped - before)} MB`,
  );
  await Promise.all(isolates.map((i) => i.close()));
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

await main();
