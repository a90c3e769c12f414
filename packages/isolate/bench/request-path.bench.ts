// The worker thread's per-request path, split: a hello request's steps timed on a Pyodide in
// this thread (mean us over many iterations, so it is CPU time, not latency).
// Run: npx tsx --conditions=source packages/isolate/bench/request-path.bench.ts
import { loadavg } from 'node:os';
import { loadPyodide } from 'pyodide';
import { sdkFiles } from '../src/internal/paths.js';
import {
  IncomingRequest,
  type PyHandle,
  runRequest,
  toJsRequest,
} from '../src/worker/request-bridge.js';

const N = Number(process.env.BENCH_N ?? 20_000);
const HELLO = `
from workers import Response, WorkerEntrypoint
class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("hello")
`;
const msg = {
  type: 'request' as const,
  id: 1,
  method: 'GET',
  url: 'http://127.0.0.1:8787/some/path?x=1',
  headers: [
    ['host', '127.0.0.1:8787'],
    ['user-agent', 'autocannon'],
    ['accept', '*/*'],
  ] as [string, string][],
  body: new Uint8Array(),
};
const py = await loadPyodide();
for (const f of [
  ...sdkFiles().map((f) => ({ path: `/lib/pyworkers/${f.path}`, bytes: f.bytes })),
  { path: '/session/worker/entry.py', bytes: new TextEncoder().encode(HELLO) },
]) {
  py.FS.mkdirTree(f.path.slice(0, f.path.lastIndexOf('/')));
  py.FS.writeFile(f.path, f.bytes);
}
py.runPython(
  "import sys\nsys.path[:0] = ['/lib/pyworkers', '/session/worker']\nimport _pyworkers_runtime\n_pyworkers_runtime.load('entry')",
);
const runtime = py.pyimport('_pyworkers_runtime') as unknown as Record<string, PyHandle>;
const handleEager = runtime.handle_eager!;

async function time(label: string, f: () => unknown): Promise<number> {
  for (let i = 0; i < N / 10; i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await f();
  const us = ((performance.now() - t0) * 1000) / N;
  process.stdout.write(`| ${label} | ${us.toFixed(1)} |\n`);
  return us;
}
process.stdout.write(
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n| step | us |\n|---|---|\n`,
);
for (let round = 0; round < 2; round++) {
  await time('JS Request (undici) alone', () => toJsRequest(msg));
  await time('runRequest: handle_eager + result (whole path)', () =>
    runRequest(py, handleEager, msg),
  );
  // The same handler call, the JS Request built up front (as before it was lazy) or not at all.
  const call = (incoming: IncomingRequest): void => {
    const r = handleEager(incoming) as { toJs(o: object): unknown; destroy(): void };
    r.toJs({ create_pyproxies: false });
    r.destroy();
  };
  await time('handle_eager + result, JS Request built up front', () => {
    const incoming = new IncomingRequest(msg);
    incoming.request();
    call(incoming);
  });
  await time('handle_eager + result, JS Request never built (lazy)', () =>
    call(new IncomingRequest(msg)),
  );
}
