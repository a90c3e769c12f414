// The "from a Python worker" rows: a real Pyodide isolate whose worker times each binding call
// in a loop (time.perf_counter around one awaited call), answered by @pyworkers/bindings over
// the host-call channel of @pyworkers/isolate. Bench-only: the package itself imports nothing of ours.
import { buildBundle, decodeBundle, Isolate } from '@pyworkers/isolate';
import type { Bindings } from '../src/index.js';

const ENTRY = `
import json, time
from urllib.parse import urlparse, parse_qs
from workers import Response, WorkerEntrypoint
from workers._bindings import call

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        q = parse_qs(urlparse(request.url).query)
        op, n, keys = q["op"][0], int(q["n"][0]), int(q["keys"][0])
        env = self.env
        proxies = hasattr(env, "KV") and hasattr(env, "DB")
        times = []
        for i in range(n):
            k = (i * 7919) % keys
            t = time.perf_counter()
            if op == "kv-get":
                await (env.KV.get(f"key-{k}") if proxies else call("KV", "get", f"key-{k}"))
            elif op == "kv-put":
                await (env.KV.put(f"put-{i % 100}", f"value-{i}") if proxies else call("KV", "put", f"put-{i % 100}", f"value-{i}"))
            elif op == "d1-select":
                sql = "SELECT * FROM users WHERE id = ?"
                await (env.DB.prepare(sql).bind(k).first() if proxies else call("DB", "first", sql, [k]))
            elif op == "d1-insert":
                sql = "INSERT OR REPLACE INTO users VALUES (?, ?, ?)"
                args = [10000 + i % 100, "n", "e"]
                await (env.DB.prepare(sql).bind(*args).run() if proxies else call("DB", "run", sql, args))
            times.append((time.perf_counter() - t) * 1000)
        return Response(json.dumps({"proxies": proxies, "times": times}))
`;

/** Per-operation times (ms) from inside a Python worker, and whether it used env proxies. */
export async function pythonRows(
  bindings: Bindings,
  ops: string[],
  n: number,
  keys: number,
): Promise<{ proxies: boolean; rows: Record<string, number[]> }> {
  const files = new Map([['entry.py', new TextEncoder().encode(ENTRY)]]);
  const bundle = decodeBundle(
    await buildBundle({ name: 'bindings-bench', mainModule: 'entry', files, vars: {} }),
  );
  const isolate = await Isolate.start(bundle, { hostCalls: bindings.handler });
  try {
    const rows: Record<string, number[]> = {};
    let proxies = false;
    for (const op of ops) {
      const run = async (count: number) => {
        const res = await isolate.fetch({
          method: 'GET',
          url: `http://127.0.0.1/?op=${op}&n=${count}&keys=${keys}`,
          headers: [],
          body: new Uint8Array(),
        });
        const text = new TextDecoder().decode(res.body);
        if (res.status !== 200) throw new Error(`python worker ${op}: ${res.status} ${text}`);
        return JSON.parse(text) as { proxies: boolean; times: number[] };
      };
      await run(200); // warm up
      const got = await run(n);
      proxies = got.proxies;
      rows[op] = got.times;
    }
    return { proxies, rows };
  } finally {
    await isolate.close();
  }
}
