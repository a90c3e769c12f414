// Soak: a steady load for a minute; no request may fail and memory must stay flat. Prints the
// error counts, throughput, latency, and the RSS of the router and of each host process over
// time. Not part of `npm test` (it takes a minute and measures, not asserts).
// Run: npm run bench:soak -w @pyworkers/router   (SOAK_SECONDS=60 SOAK_CONNECTIONS=10)
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 10);
const SAMPLE_MS = 5_000;

const child = fork(fileURLToPath(new URL('./soak-server.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx', '--conditions=source'],
});
const { port } = await new Promise<{ port: number }>((resolve) =>
  child.once('message', (m) => resolve(m as { port: number })),
);

/** RSS in MiB of a process, from /proc (Linux). */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return kb / 1024;
}
/** The router process and its host processes (not tsx's esbuild service, also a child). */
function processes(): { router: number; hosts: number[] } {
  const router = child.pid!;
  const hosts: number[] = [];
  for (const task of readdirSync(`/proc/${router}/task`)) {
    const kids = readFileSync(`/proc/${router}/task/${task}/children`, 'utf8').trim();
    for (const k of kids.split(/\s+/).filter(Boolean)) {
      const cmdline = readFileSync(`/proc/${k}/cmdline`, 'utf8');
      if (/host-process|dev-bootstrap/.test(cmdline)) hosts.push(Number(k));
    }
  }
  return { router, hosts: hosts.sort((a, b) => a - b) };
}

// Warm up: the cold start and the first requests on every host.
const warm = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 4, amount: 2_000 });
if (warm.errors + warm.non2xx > 0) console.log(`warm-up had ${warm.errors + warm.non2xx} errors`);

const samples: { s: number; router: number; hosts: number[] }[] = [];
const t0 = performance.now();
const sample = (): void => {
  const p = processes();
  samples.push({
    s: Math.round((performance.now() - t0) / 1000),
    router: rssMiB(p.router),
    hosts: p.hosts.map(rssMiB),
  });
};
sample();
const timer = setInterval(sample, SAMPLE_MS);
const r = await autocannon({
  url: `http://127.0.0.1:${port}/`,
  connections: CONNECTIONS,
  duration: SECONDS,
});
clearInterval(timer);
sample();

const total = (x: { router: number; hosts: number[] }): number =>
  x.router + x.hosts.reduce((a, b) => a + b, 0);
const first = samples[1] ?? samples[0]!; // after the first 5 s at full load
const last = samples.at(-1)!;
const max = Math.max(...samples.map(total));
const slope = ((total(last) - total(first)) / Math.max(1, last.s - first.s)) * 60;

console.log(`## Soak: autocannon ${CONNECTIONS} connections x ${SECONDS} s on the hello worker\n`);
console.log('| requests | req/s | p50 (ms) | p99 (ms) | errors | non-2xx | timeouts |');
console.log('|---|---|---|---|---|---|---|');
console.log(
  `| ${r.requests.total} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ` +
    `${r.errors} | ${r.non2xx} | ${r.timeouts} |`,
);
console.log('\n| t (s) | router RSS (MiB) | host RSS (MiB each) | total (MiB) |');
console.log('|---|---|---|---|');
for (const x of samples) {
  console.log(
    `| ${x.s} | ${x.router.toFixed(0)} | ${x.hosts.map((h) => h.toFixed(0)).join(', ')} | ${total(x).toFixed(0)} |`,
  );
}
console.log(
  `\nRSS total from t=${first.s}s to t=${last.s}s: ${total(first).toFixed(0)} -> ${total(last).toFixed(0)} MiB ` +
    `(max ${max.toFixed(0)}, ${slope >= 0 ? '+' : ''}${slope.toFixed(1)} MiB/min)`,
);
child.disconnect();
