// The host-call channel alone: binding calls from Python to a handler that answers at once,
// timed in Python around each call (p50/p99 over BENCH_N calls), on both paths (async: an
// awaited JS promise; store: the thread waits for the answer), next to what they are made of
// (a turn of Pyodide's event loop, an awaited JS promise, one JS call). `npm run bench:host-call`.
import os from 'node:os';
import { buildBundle, decodeBundle, type HostCallHandler, Isolate } from '../src/index.js';

const N = Number(process.env.BENCH_N ?? 3000);
const entry = `
import asyncio, json, time
from workers import Response, WorkerEntrypoint
from workers._bindings import call, call_store

def stats(xs):
    xs = sorted(xs)
    return {"p50": xs[len(xs) // 2] * 1000, "p99": xs[int(len(xs) * 0.99)] * 1000, "mean": sum(xs) / len(xs) * 1000}

async def returns():
    return 1

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        n = int(request.url.rsplit("=", 1)[1])
        from js import Promise
        host = __import__("js").pyworkersHost
        sql = "SELECT * FROM t WHERE id = ?"

        async def coroutine(): await returns()
        async def loop_turn(): await asyncio.sleep(0)
        async def js_promise(): await Promise.resolve(1)
        async def ffi_call(): host.log("debug", "bench", "")
        async def async_text(): await call("KV", "get", "key")
        async def async_row(): await call("DB", "first", sql, [1])
        async def store_text(): call_store("KV", "get", "key")
        async def store_row(): call_store("DB", "first", sql, [1])
        async def store_opts(): call_store("KV", "put", "k", "v", {"expirationTtl": 60, "metadata": {"a": 1}})

        out = {}
        for label, f in (
            ("await a Python coroutine that returns", coroutine),
            ("one turn of Pyodide's event loop (asyncio.sleep(0))", loop_turn),
            ("await a resolved JS promise", js_promise),
            ("one JS call from Python (pyworkersHost.log)", ffi_call),
            ("async call: text", async_text),
            ("async call: row (dict)", async_row),
            ("store call: text", store_text),
            ("store call: row (dict)", store_row),
            ("store call: options dict", store_opts),
        ):
            for _ in range(200):
                await f()
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                await f()
                times.append(time.perf_counter() - t0)
            out[label] = stats(times)
        return Response.json(out)
`;

const row = { id: 1, title: 'hello', body: 'a row of a table', score: 4.5, tags: null };
const handler: HostCallHandler = async ({ method }) =>
  method === 'get' ? 'value-of-a-hundred-bytes'.padEnd(100, '.') : method === 'first' ? row : null;

const bytes = await buildBundle({
  name: 'bench',
  mainModule: 'entry',
  files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
  vars: {},
});
const isolate = await Isolate.start(decodeBundle(bytes), { hostCalls: handler });
try {
  const res = await isolate.fetch({
    method: 'GET',
    url: `http://127.0.0.1/?n=${N}`,
    headers: [],
    body: new Uint8Array(),
  });
  const body = res.body instanceof Uint8Array ? res.body : new Uint8Array();
  const out = JSON.parse(new TextDecoder().decode(body)) as Record<string, Record<string, number>>;
  console.log(
    `host-call channel, ${N} calls each (ms, timed in Python), load ${os.loadavg()[0]?.toFixed(1)}`,
  );
  console.log('| call | p50 | p99 | mean |\n|---|---|---|---|');
  for (const [k, v] of Object.entries(out))
    console.log(`| ${k} | ${v.p50!.toFixed(4)} | ${v.p99!.toFixed(4)} | ${v.mean!.toFixed(4)} |`);
} finally {
  await isolate.close();
}
