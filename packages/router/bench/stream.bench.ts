// A 100 MiB streamed response through the router (a Python worker yielding 64 KiB chunks,
// in-process and child-process hosts) against bare node:http streaming the same bytes, in one
// run. The client is curl (its own process), reading to /dev/null. Each server is warmed first
// (JIT, and Pyodide's WebAssembly tiering up: the first 100 MiB through a fresh isolate run at a
// third of the speed of the fifth); the figure is the median of the measured runs, with the CPU
// time the server's processes spent per 100 MiB (steadier than MiB/s on a shared machine).
//
//   npm run bench:stream -w @pyworkers/router   (BENCH_WARM=4 warm-up runs, BENCH_RUNS=5)
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { promisify } from 'node:util';
import { createRouter } from '../src/index.js';
import { streamWorkerBundle } from './stream-worker.js';

const TOTAL = 100 * 1024 * 1024;
const CHUNK = 64 * 1024;
const WARM = Number(process.env.BENCH_WARM ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const bundle = await streamWorkerBundle('stream', TOTAL, CHUNK);

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
const localPort = (await local.listen({ port: 0, host: '127.0.0.1' })).port;
const processPort = (await processHosts.listen({ port: 0, host: '127.0.0.1' })).port;
const targets: Record<string, { port: number; pids: () => Promise<number[]> }> = {
  'bare node:http': { port: (bare.address() as AddressInfo).port, pids: async () => [process.pid] },
  'router, local host': { port: localPort, pids: async () => [process.pid] },
  'router, process host': {
    port: processPort,
    pids: async () => [process.pid, ...(await processHosts.status()).hosts.map((h) => h.pid)],
  },
};

/** CPU milliseconds (user + system, every thread) a process has used so far. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

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

// Rounds go server by server (bare, local, process, bare, ...): each median then sees the
// same moments of a shared machine's load, rather than one server its quiet minute.
const entries = Object.entries(targets);
const first = new Map<string, number>();
const rates = new Map<string, number[]>(entries.map(([server]) => [server, []]));
const cpus = new Map<string, number[]>(entries.map(([server]) => [server, []]));
for (let round = 0; round < WARM + RUNS; round++) {
  for (const [server, { port, pids }] of entries) {
    const watched = await pids();
    const before = watched.map(cpuMs);
    const { mbps, bytes } = await curl(port);
    const cpu = watched.reduce((sum, pid, j) => sum + cpuMs(pid) - before[j]!, 0);
    if (bytes !== TOTAL) throw new Error(`${server}: got ${bytes} bytes, expected ${TOTAL}`);
    // Round 0 is the isolate's first 100 MiB (after its cold start).
    if (round === 0) first.set(server, mbps);
    if (round < WARM) continue;
    rates.get(server)!.push(mbps);
    cpus.get(server)!.push(cpu);
  }
}
const mid = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bareRate = mid(rates.get('bare node:http')!);
const rows = entries.map(([server]) => {
  const median = mid(rates.get(server)!);
  return `${server.padEnd(22)} ${String(Math.round(median)).padStart(6)} MiB/s  ${String(Math.round((median / bareRate) * 100)).padStart(3)}% of bare  ${String(Math.round(mid(cpus.get(server)!))).padStart(5)} ms CPU  (first run ${Math.round(first.get(server)!)} MiB/s)`;
});
process.stdout.write(
  `100 MiB streamed response, 64 KiB chunks, curl; ${WARM} warm-up rounds, median of ${RUNS} (servers taken in turn); load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
for (const r of rows) process.stdout.write(`${r}\n`);
bare.close();
await Promise.all([local.close(), processHosts.close()]);
