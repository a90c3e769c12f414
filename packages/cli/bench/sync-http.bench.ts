// A blocking `requests.get` inside a worker (the isolate thread waits in Atomics.wait while
// the host performs the request) against an async `await fetch()` to the same local server, in
// one run, one isolate. Real wheels from pip's local wheel directories (test/helpers).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle, decodeBundle, Isolate } from '@pyworkers/isolate';

const CALLS = 300;
const ROUNDS = 3;
const PROJECTS = ['requests', 'urllib3', 'idna', 'certifi', 'charset-normalizer'];

const root = mkdtempSync(join(tmpdir(), 'pyw-sync-bench-'));
const wheels = join(root, 'wheels');
const site = join(root, 'site');
execFileSync('python3', [
  fileURLToPath(new URL('../test/helpers/local-wheels.py', import.meta.url)),
  wheels,
  ...PROJECTS,
]);
execFileSync('python3', [
  '-c',
  'import sys, zipfile, os\nfor w in os.listdir(sys.argv[1]): zipfile.ZipFile(os.path.join(sys.argv[1], w)).extractall(sys.argv[2])',
  wheels,
  site,
]);
const files = new Map<string, Uint8Array>();
const walk = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.set(relative(site, path), readFileSync(path));
  }
};
walk(site);

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
  res.end('ok');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

files.set(
  'entry.py',
  new TextEncoder().encode(`
import time

import requests
from workers import Response, WorkerEntrypoint, fetch

TARGET = "${target}"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        kind = request.url.rsplit("/", 1)[-1]
        t0 = time.perf_counter()
        for _ in range(${CALLS}):
            if kind == "sync":
                assert requests.get(TARGET, timeout=10).text == "ok"
            else:
                assert await (await fetch(TARGET)).text() == "ok"
        return Response(str((time.perf_counter() - t0) * 1000 / ${CALLS}))
`),
);
const bundle = await buildBundle({ name: 'sync-bench', mainModule: 'entry', files, vars: {} });
const isolate = await Isolate.start(decodeBundle(bundle));
const perCall = async (kind: string): Promise<number> => {
  const res = await isolate.fetch({
    method: 'GET',
    url: `http://127.0.0.1/${kind}`,
    headers: [],
    body: new Uint8Array(),
  });
  return Number(new TextDecoder().decode(res.body));
};
await perCall('sync');
await perCall('async');
const results: Record<string, number[]> = { sync: [], async: [] };
for (let i = 0; i < ROUNDS; i++) {
  // Interleaved, so load on a shared box hits both alike.
  results.sync!.push(await perCall('sync'));
  results.async!.push(await perCall('async'));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sync = median(results.sync!);
const async_ = median(results.async!);
process.stdout.write(
  `${CALLS} sequential GETs to a local server from one worker, median of ${ROUNDS} rounds\n` +
    `requests.get (blocking host call)  ${sync.toFixed(3)} ms/call\n` +
    `await fetch() (JS fetch)           ${async_.toFixed(3)} ms/call\n` +
    `ratio sync/async                   ${(sync / async_).toFixed(2)}x (goal <= 1.5x)\n`,
);
await isolate.close();
server.close();
rmSync(root, { recursive: true, force: true });
