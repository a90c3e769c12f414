// Warm request cost through the Python SDK: hello as `class Default`, as `on_fetch`, and the
// same hello behind the ASGI and WSGI adapters. Each figure is a full `isolate.fetch()` round
// trip (postMessage both ways included), so it bounds the time spent inside the isolate.
// A second table times the in-isolate part alone: the worker thread's per-request path
// (JS Request, Python handle(), result conversion) on a Pyodide in this thread.
// Run: npx tsx --conditions=source packages/isolate/bench/sdk-warm-request.ts
import { loadPyodide } from 'pyodide';
import { buildBundle, decodeBundle, Isolate } from '../src/index.js';
import { sdkFiles } from '../src/internal/paths.js';
import { type PyHandle, runRequest } from '../src/worker/request-bridge.js';

const workers: Record<string, string> = {
  'Default.fetch': `
from workers import Response, WorkerEntrypoint
class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("hello")
`,
  on_fetch: `
from workers import Response
async def on_fetch(request, env):
    return Response("hello")
`,
  'asgi.fetch': `
import asgi
from workers import WorkerEntrypoint
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})
class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)
`,
  'wsgi.fetch': `
from workers import WorkerEntrypoint, wsgi
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await wsgi.fetch(app, request, self.env)
`,
};

const WARMUP = 200;
const ROUNDS = 2000;
const request = {
  method: 'GET',
  url: 'http://127.0.0.1/',
  headers: [['user-agent', 'bench'] as [string, string]],
  body: new Uint8Array(),
};

const isolates = new Map<string, Isolate>();
for (const [name, source] of Object.entries(workers)) {
  const files = new Map([['entry.py', new TextEncoder().encode(source)]]);
  const bytes = await buildBundle({ name, mainModule: 'entry', files, vars: {} });
  isolates.set(name, await Isolate.start(decodeBundle(bytes)));
}

const samples = new Map<string, number[]>([...isolates.keys()].map((k) => [k, []]));
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  // Round-robin, so machine noise hits every worker alike.
  for (const [name, isolate] of isolates) {
    const t0 = performance.now();
    const res = await isolate.fetch(request);
    const dt = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${name} answered ${res.status}`);
    if (i >= WARMUP) samples.get(name)?.push(dt);
  }
}

function table(rows: Record<string, string>[]): void {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(width[i] ?? 0)).join(' | ')} |\n`;
  process.stdout.write(line(cols) + line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) process.stdout.write(line(cols.map((c) => r[c] ?? '')));
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const base = pct(samples.get('Default.fetch') ?? [], 50);
const rows = [...samples].map(([name, xs]) => ({
  worker: name,
  'p50 ms': pct(xs, 50).toFixed(3),
  'p90 ms': pct(xs, 90).toFixed(3),
  'p99 ms': pct(xs, 99).toFixed(3),
  'p50 vs Default.fetch': (pct(xs, 50) / base).toFixed(2),
}));
process.stdout.write(
  `isolate.fetch() round trip, ${ROUNDS} each after ${WARMUP} warm-up, interleaved\n`,
);
table(rows);
await Promise.all([...isolates.values()].map((i) => i.close()));

// First request of a fresh isolate (Isolate.start, then one request): what the SDK's
// boot-time warm-up (fetch classes loaded, request path run once) leaves to the first request.
const FRESH = 8;
const helloBundle = decodeBundle(
  await buildBundle({
    name: 'first',
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(workers['Default.fetch'] ?? '')]]),
    vars: {},
  }),
);
const firsts: number[] = [];
const seconds: number[] = [];
for (let i = 0; i < FRESH; i++) {
  const isolate = await Isolate.start(helloBundle);
  // Let the env message and its warm-up finish, as for an isolate started ahead of traffic.
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const into of [firsts, seconds]) {
    const t0 = performance.now();
    await isolate.fetch(request);
    into.push(performance.now() - t0);
  }
  await isolate.close();
}
process.stdout.write(`first and second request of ${FRESH} fresh isolates (Default.fetch)\n`);
table([
  { request: 'first', 'p50 ms': pct(firsts, 50).toFixed(3), 'max ms': pct(firsts, 100).toFixed(3) },
  {
    request: 'second',
    'p50 ms': pct(seconds, 50).toFixed(3),
    'max ms': pct(seconds, 100).toFixed(3),
  },
]);

// In-isolate only: the same steps the worker thread runs per request, without the messaging.
const py = await loadPyodide();
for (const f of [
  ...sdkFiles().map((f) => ({ path: `/lib/pyworkers/${f.path}`, bytes: f.bytes })),
  { path: '/session/worker/entry.py', bytes: new TextEncoder().encode(workers['Default.fetch']) },
]) {
  py.FS.mkdirTree(f.path.slice(0, f.path.lastIndexOf('/')));
  py.FS.writeFile(f.path, f.bytes);
}
py.runPython(
  "import sys\nsys.path[:0] = ['/lib/pyworkers', '/session/worker']\nimport _pyworkers_runtime\n_pyworkers_runtime.load('entry')",
);
const handle = py.pyimport('_pyworkers_runtime').handle as unknown as PyHandle;
const inside: number[] = [];
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  const t0 = performance.now();
  const { message } = await runRequest(py, handle, { type: 'request', id: i, ...request });
  const dt = performance.now() - t0;
  if (message.type !== 'response')
    throw new Error(
      message.type === 'error' ? message.error.message : 'streamed: expected a whole body',
    );
  if (i >= WARMUP) inside.push(dt);
}
process.stdout.write('in-isolate request path (hello, Default.fetch)\n');
table([
  {
    worker: 'Default.fetch',
    'p50 ms': pct(inside, 50).toFixed(3),
    'p90 ms': pct(inside, 90).toFixed(3),
    'p99 ms': pct(inside, 99).toFixed(3),
  },
]);
