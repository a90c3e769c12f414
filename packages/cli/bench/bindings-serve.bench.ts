// Store-call latency as a deployed worker sees it: `pyworkers serve --state DIR` (router + host
// processes, bindings answered in the host process's main thread, which also relays requests),
// a Python worker timing `await env.KV.get(k)` and a D1 point select in a loop, first with the
// server otherwise idle, then while 8 client connections keep other requests going.
// `npm run bench:bindings-serve -w pyworkers` (BENCH_N calls per row, default 2000).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../test/helpers/crash-serve.js';
import { runCli, startCli } from '../test/helpers/run-cli.js';

const N = Number(process.env.BENCH_N ?? 2000);
const entry = `import json, time
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path, _, query = request.url.split("/", 3)[3].partition("?")
        env = self.env
        if path == "fill":
            await env.DB.exec("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
            for i in range(1000):
                await env.KV.put(f"key-{i}", f"value-{i}-" + "x" * 100)
            await env.DB.batch([env.DB.prepare("INSERT OR REPLACE INTO users VALUES (?, ?, ?)").bind(i, f"user {i}", f"u{i}@example.com") for i in range(1000)])
            return Response("ok")
        if path == "time":
            op, n = query.split("&")
            n = int(n)
            times = []
            for i in range(n):
                k = (i * 7919) % 1000
                t = time.perf_counter()
                if op == "kv-get":
                    await env.KV.get(f"key-{k}")
                else:
                    await env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(k).first()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            return Response(json.dumps({"p50": times[n // 2], "p99": times[int(n * 0.99)], "mean": sum(times) / n}))
        return Response("hello")
`;

const root = mkdtempSync(join(tmpdir(), 'pyw-bindings-serve-'));
try {
  const init = await runCli(['init', 'app'], { cwd: root });
  if (init.code !== 0) throw new Error(init.stderr);
  const project = join(root, 'app');
  writeFileSync(
    join(project, 'wrangler.jsonc'),
    `{ "name": "bench", "main": "src/entry.py", "compatibility_flags": ["python_workers"],
  "kv_namespaces": [{ "binding": "KV", "id": "bench" }],
  "d1_databases": [{ "binding": "DB", "database_name": "bench", "database_id": "bench" }] }
`,
  );
  writeFileSync(join(project, 'src', 'entry.py'), entry);
  const proc = startCli(
    [
      'serve',
      '--port',
      '0',
      '--json',
      '--state',
      join(root, 'state'),
      '--max-isolates',
      '1',
      project,
    ],
    { cwd: project },
  );
  try {
    const { url } = await proc.ready;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    if ((await request(agent, `${url}/fill`)).status !== 200) throw new Error('fill failed');
    const time = async (op: string) => {
      await request(agent, `${url}/time?${op}&500`); // warm up
      const res = await request(agent, `${url}/time?${op}&${N}`);
      return JSON.parse(res.body) as { p50: number; p99: number; mean: number };
    };
    const rows: [string, { p50: number; p99: number; mean: number }][] = [];
    for (const op of ['kv-get', 'd1-select']) rows.push([`${op}, server idle`, await time(op)]);
    // Other requests keep the router and the host processes busy meanwhile.
    let busy = true;
    let served = 0;
    const others = Array.from({ length: 8 }, async () => {
      const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (busy) {
        await request(a, `${url}/`);
        served++;
      }
      a.destroy();
    });
    const t0 = performance.now();
    for (const op of ['kv-get', 'd1-select'])
      rows.push([`${op}, 8 connections of other requests`, await time(op)]);
    const rate = served / ((performance.now() - t0) / 1000);
    busy = false;
    await Promise.all(others);
    agent.destroy();
    console.log(
      `store calls through pyworkers serve (${N} calls per row, timed in Python; ms), node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)}`,
    );
    console.log('| row | p50 | p99 | mean |\n|---|---|---|---|');
    for (const [label, r] of rows)
      console.log(
        `| ${label} | ${r.p50.toFixed(4)} | ${r.p99.toFixed(3)} | ${r.mean.toFixed(4)} |`,
      );
    console.log(`(other requests meanwhile: ${rate.toFixed(0)} req/s)`);
  } finally {
    await proc.stop();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
