// Warm HTTP throughput and latency of the router against a bare node:http server, in one run.
// Run: npm run bench:http -w @pyworkers/router
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

const child = fork(fileURLToPath(new URL('./http-servers.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx', '--conditions=source'],
});
const ports = await new Promise<{ bare: number; local: number; process: number }>((resolve) =>
  child.once('message', (m) => resolve(m as { bare: number; local: number; process: number })),
);

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        else resolve(performance.now() - t0);
      });
    })
      .on('error', reject)
      .end();
  });
}

/** p50 of one request at a time over a warm keep-alive connection, in ms. */
async function sequentialP50(port: number, n = 2_000): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await get(port));
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)]!;
}

async function load(
  port: number,
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections: CONNECTIONS,
    duration: DURATION,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

// Warm every target (cold start on the routers) before measuring anything.
for (const port of Object.values(ports)) for (let i = 0; i < 200; i++) await get(port);

const targets = ['bare', 'local', 'process'] as const;
const results = Object.fromEntries(
  targets.map((t) => [
    t,
    {
      rps: [] as number[],
      p50: [] as number[],
      p99: [] as number[],
      seq: [] as number[],
      errors: 0,
    },
  ]),
);
for (let round = 0; round < ROUNDS; round++) {
  // Interleaved, so that noise from the shared machine hits every target alike.
  for (const t of targets) {
    const r = await load(ports[t]);
    const x = results[t]!;
    x.rps.push(r.rps);
    x.p50.push(r.p50);
    x.p99.push(r.p99);
    x.errors += r.errors;
    x.seq.push(await sequentialP50(ports[t]));
  }
}

const bareRps = median(results.bare!.rps);
const label = {
  bare: 'bare node:http hello world',
  local: 'router, 1 in-process host',
  process: 'router, child-process hosts (1 per core)',
};
console.log(
  `## Warm HTTP on 127.0.0.1: autocannon ${CONNECTIONS} connections x ${DURATION} s, ${ROUNDS} interleaved rounds (medians)\n`,
);
console.log(
  '| server | req/s | vs bare | p50 (autocannon, ms) | p99 (ms) | p50 one at a time (ms) | errors |',
);
console.log('|---|---|---|---|---|---|---|');
for (const t of targets) {
  const x = results[t]!;
  const rps = median(x.rps);
  console.log(
    `| ${label[t]} | ${Math.round(rps)} | ${((rps / bareRps) * 100).toFixed(0)}% | ${median(x.p50)} | ` +
      `${median(x.p99)} | ${median(x.seq).toFixed(3)} | ${x.errors} |`,
  );
}
agent.destroy();
child.disconnect();
