// A 100 MiB streamed response through the router (a Python worker yielding 64 KiB chunks,
// in-process and child-process hosts) against bare node:http streaming the same bytes, in one
// run. The client is curl (its own process), reading to /dev/null; median of 3 runs each.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { buildBundle, decodeBundle } from '@pyworkers/isolate';
import { createRouter } from '../src/index.js';

const TOTAL = 100 * 1024 * 1024;
const CHUNK = 64 * 1024;
const RUNS = 3;

const entry = `
from workers import Response, WorkerEntrypoint

CHUNK = b"x" * ${CHUNK}


async def chunks():
    for _ in range(${TOTAL / CHUNK}):
        yield CHUNK


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(chunks(), headers={"content-type": "application/octet-stream"})
`;

const bundle = decodeBundle(
  await buildBundle({
    name: 'stream',
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
    vars: {},
  }),
);

const chunk = Buffer.alloc(CHUNK, 120);
const bare = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  let sent = 0;
  const write = (): void => {
    while (sent < TOTAL) {
      sent += CHUNK;
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  write();
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));

const workers = [{ name: 'stream', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }];
const local = createRouter({ workers, hostKind: 'local', hosts: 1 });
const processHosts = createRouter({ workers, hostKind: 'process', hosts: 1 });
const targets = {
  'bare node:http': (bare.address() as AddressInfo).port,
  'router, local host': (await local.listen({ port: 0, host: '127.0.0.1' })).port,
  'router, process host': (await processHosts.listen({ port: 0, host: '127.0.0.1' })).port,
};

// Async: the servers share this process's event loop with the client launcher.
const run = promisify(execFile);

async function curl(port: number): Promise<{ mbps: number; bytes: number }> {
  const { stdout: out } = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{size_download} %{time_total}',
    `http://127.0.0.1:${port}/`,
  ]);
  const [bytes, seconds] = out.trim().split(' ').map(Number) as [number, number];
  return { mbps: bytes / 1024 / 1024 / seconds, bytes };
}

const rows: { server: string; mibPerS: number; ofBare: string }[] = [];
let bareRate = 0;
for (const [server, port] of Object.entries(targets)) {
  await curl(port); // warm: cold start, JIT
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { mbps, bytes } = await curl(port);
    if (bytes !== TOTAL) throw new Error(`${server}: got ${bytes} bytes, expected ${TOTAL}`);
    rates.push(mbps);
  }
  const median = rates.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
  if (server === 'bare node:http') bareRate = median;
  rows.push({
    server,
    mibPerS: Math.round(median),
    ofBare: `${Math.round((median / bareRate) * 100)}%`,
  });
}
process.stdout.write(`100 MiB streamed response, 64 KiB chunks, median of ${RUNS} (curl)\n`);
for (const r of rows) {
  process.stdout.write(
    `${r.server.padEnd(22)} ${String(r.mibPerS).padStart(6)} MiB/s  ${r.ofBare} of bare\n`,
  );
}
bare.close();
await Promise.all([local.close(), processHosts.close()]);
