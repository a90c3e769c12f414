// The "from a Python worker" rows: a real Pyodide isolate whose worker times each binding call
// in a loop (time.perf_counter around one awaited call), answered by @pyworkers/bindings over
// the host-call channel of @pyworkers/isolate. Bench-only: the package itself imports nothing of ours.
import { buildBundle, decodeBundle, Isolate } from '@pyworkers/isolate';
import type { Bindings } from '../src/index.js';

const ENTRY = `
import json, time
from urllib.parse import urlparse, parse_qs
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        q = parse_qs(urlparse(request.url).query)
        op, n, keys = q["op"][0], int(q["n"][0]), int(q["keys"][0])
        kv, db = self.env.KV, self.env.DB
        times = []
        for i in range(n):
            k = (i * 7919) % keys
            t = time.perf_counter()
            if op == "kv-get":
                await kv.get(f"key-{k}")
            elif op == "kv-put":
                await kv.put(f"put-{i % 100}", f"value-{i}")
            elif op == "d1-select":
                await db.prepare("SELECT * FROM users WHERE id = ?").bind(k).first()
            elif op == "d1-insert":
                await db.prepare("INSERT OR REPLACE INTO users VALUES (?, ?, ?)").bind(10000 + i % 100, "n", "e").run()
            times.append((time.perf_counter() - t) * 1000)
        return Response(json.dumps({"times": times}))
`;

/** Per-operation times (ms) from inside a Python worker, through its `self.env` proxies. */
export async function pythonRows(
  bindings: Bindings,
  ops: string[],
  n: number,
  keys: number,
): Promise<Record<string, number[]>> {
  const files = new Map([['entry.py', new TextEncoder().encode(ENTRY)]]);
  const bundle = decodeBundle(
    await buildBundle({
      name: 'bindings-bench',
      mainModule: 'entry',
      files,
      vars: {},
      // Declared, so self.env holds the KV and D1 proxies a worker uses.
      bindings: {
        bindings: [
          { type: 'kv', name: 'KV', id: 'bench' },
          { type: 'd1', name: 'DB', databaseName: 'bench' },
        ],
      },
    }),
  );
  const isolate = await Isolate.start(bundle, { hostCalls: bindings.handler });
  try {
    const rows: Record<string, number[]> = {};
    const run = async (op: string, count: number) => {
      const res = await isolate.fetch({
        method: 'GET',
        url: `http://127.0.0.1/?op=${op}&n=${count}&keys=${keys}`,
        headers: [],
        body: new Uint8Array(),
      });
      const text = new TextDecoder().decode(res.body);
      if (res.status !== 200) throw new Error(`python worker ${op}: ${res.status} ${text}`);
      return JSON.parse(text) as { times: number[] };
    };
    // Warm up every operation first: the first ones after a boot also pay for the isolate's
    // own settling (JIT, the first collections), which is not what a row measures.
    for (const op of ops) await run(op, 500);
    for (const op of ops) {
      const got = await run(op, n);
      rows[op] = got.times;
    }
    return rows;
  } finally {
    await isolate.close();
  }
}
