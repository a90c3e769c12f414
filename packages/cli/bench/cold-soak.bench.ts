// A soak of cold starts, from outside: `pyworkers serve a b --max-isolates 1` with two workers
// that answer with fresh OS entropy, then N requests alternating between them (each one a cold
// start: the other worker's isolate is evicted). Prints the server's process-tree RSS (as the OS
// counts it) every `--every` cold starts, its growth over the run, the cold starts the router
// counted, and whether every response carried entropy no other response had (every restore draws
// its own). Run it on a quiet box and say the load.
//
//   npx tsx --conditions=source packages/cli/bench/cold-soak.bench.ts [--n 1000] [--every 100] [--port 18820]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, portOpen, run } from './serve-helpers.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    every: { type: 'string', default: '100' },
    port: { type: 'string', default: '18820' },
  },
});
const N = Number(values.n);
const EVERY = Number(values.every);
const PORT = Number(values.port);

const ENTRY = `import os
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(os.urandom(16).hex())
`;

/** RSS in bytes of `pid` and every process below it, read from /proc as the OS counts it. */
function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone while we looked
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pyw-cold-soak-'));
  console.log(`load average at start: ${load()}`);
  let serve: ChildProcess | undefined;
  try {
    for (const name of ['a', 'b']) {
      await run(['init', name], root);
      writeFileSync(join(root, name, 'src', 'entry.py'), ENTRY);
      await run(['build'], join(root, name));
    }
    serve = spawn(
      process.execPath,
      [BIN, 'serve', 'a', 'b', '--max-isolates', '1', '--port', String(PORT)],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, PYWORKERS_LOG: 'warn' },
      },
    );
    await portOpen(PORT);
    const seen = new Set<string>();
    const samples: { at: number; rss: number }[] = [];
    const times: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${PORT}/${i % 2 ? 'a' : 'b'}/`);
      const text = await res.text();
      times.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`request ${i}: ${res.status} ${text}`);
      seen.add(text);
      if ((i + 1) % EVERY === 0) {
        const rss = treeRss(serve.pid!);
        samples.push({ at: i + 1, rss });
        const s = times.slice(-EVERY).sort((x, y) => x - y);
        console.log(
          `${String(i + 1).padStart(5)} cold starts: tree RSS ${mb(rss)}, p50 ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms over the last ${EVERY}`,
        );
      }
    }
    const metrics = await (await fetch(`http://127.0.0.1:${PORT}/__pyworkers/metrics`)).text();
    const counted = [...metrics.matchAll(/^pyworkers_cold_starts_total\{[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    const first = samples[0]!;
    const last = samples.at(-1)!;
    console.log(
      `tree RSS after ${first.at}: ${mb(first.rss)}; after ${last.at}: ${mb(last.rss)}; growth ${mb(last.rss - first.rss)} over ${last.at - first.at} cold starts`,
    );
    console.log(`cold starts counted by the router: ${counted} (requests: ${N})`);
    console.log(
      `distinct entropy in ${N} responses: ${seen.size} (every restore its own: ${seen.size === N})`,
    );
  } finally {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve!.once('exit', r));
      serve.kill('SIGTERM');
      await exited;
    }
    console.log(`load average at end: ${load()}`);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
