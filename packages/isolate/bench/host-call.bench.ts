// The host-call channel alone: one awaited binding call from Python to a handler that answers
// at once, timed in Python around each call (p50/p99 over BENCH_N calls), for a string result,
// a small dict (a D1 row) and a call with an options dict. `npm run bench:host-call`.
import { buildBundle, decodeBundle, type HostCallHandler, Isolate } from '../src/index.js';

const N = Number(process.env.BENCH_N ?? 3000);
const entry = `
import json, time
from workers import Response, WorkerEntrypoint
from workers._bindings import call

def stats(xs):
    xs = sorted(xs)
    return {"p50": xs[len(xs) // 2] * 1000, "p99": xs[int(len(xs) * 0.99)] * 1000, "mean": sum(xs) / len(xs) * 1000}

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        n = int(request.url.rsplit("=", 1)[1])
        out = {}
        from js import Promise
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            await Promise.resolve(1)
            times.append(time.perf_counter() - t0)
        out["await a resolved JS promise"] = stats(times)
        from workers import _bindings
        for label, args in (("to_host text args", ("key", {})), ("to_host opts args", ("k", "v", {"expirationTtl": 60, "metadata": {"a": 1}}))):
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                _bindings._args("KV", "get", args)
                times.append(time.perf_counter() - t0)
            out[label] = stats(times)
        import js
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            js.pyworkersHost
            times.append(time.perf_counter() - t0)
        out["js.pyworkersHost lookup"] = stats(times)
        for label, args in (("text", ("KV", "get", "key")), ("row", ("DB", "first", "SELECT 1", [1])), ("opts", ("KV", "put", "k", "v", {"expirationTtl": 60, "metadata": {"a": 1}}))):
            for _ in range(200):
                await call(*args)
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                await call(*args)
                times.append(time.perf_counter() - t0)
            out[label] = stats(times)
        return Response.json(out)
`;

const row = { id: 1, title: 'hello', body: 'a row of a table', score: 4.5, tags: null };
const handler: HostCallHandler = async ({ method }) =>
  method === 'get' ? 'value' : method === 'first' ? row : null;

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
  console.log(`host-call channel, ${N} calls each (ms, timed in Python)`);
  console.log('| call | p50 | p99 | mean |\n|---|---|---|---|');
  for (const [k, v] of Object.entries(out))
    console.log(`| ${k} | ${v.p50!.toFixed(4)} | ${v.p99!.toFixed(4)} | ${v.mean!.toFixed(4)} |`);
} finally {
  await isolate.close();
}
