// A/B of the in-process router on a noisy box: two server processes (bench/http-servers.ts,
// each with its own env), autocannon bursts alternated between them many times, so that the
// box's load hits both alike; per pair the ratio B/A of req/s and CPU per request.
//   A_ENV="X=1" B_ENV="X=2" PAIRS=12 BURST=1.5 WARM=8 npm run bench:ab-local -w @pyworkers/router
//   A_SERVERS=/other/checkout/packages/router/bench/http-servers.ts: A is that checkout's router
//   (A_ARGS / B_ARGS: node flags of each; TARGET=bare: their bare node:http servers instead)
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { threadTicks } from './thread-cpu.js';

const PAIRS = Number(process.env.PAIRS ?? 12);
const BURST = Number(process.env.BURST ?? 1.5);
const envOf = (s: string | undefined): Record<string, string> =>
  Object.fromEntries(
    (s ?? '')
      .split(' ')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
async function start(env: Record<string, string>, args: string[], servers?: string) {
  const child = fork(servers ?? fileURLToPath(new URL('./http-servers.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', '--conditions=source', ...args],
    env: { ...process.env, ...env },
  });
  const ports = await new Promise<{ bare: number; local: number }>((resolve) =>
    child.once('message', (m) => resolve(m as { bare: number; local: number })),
  );
  return { child, port: process.env.TARGET === 'bare' ? ports.bare : ports.local };
}
const a = await start(
  envOf(process.env.A_ENV),
  (process.env.A_ARGS ?? '').split(' ').filter(Boolean),
  process.env.A_SERVERS,
);
const b = await start(
  envOf(process.env.B_ENV),
  (process.env.B_ARGS ?? '').split(' ').filter(Boolean),
);
const burst = async (s: { child: { pid?: number }; port: number }, duration: number) => {
  const t0 = threadTicks([s.child.pid!]);
  const r = await autocannon({ url: `http://127.0.0.1:${s.port}/`, connections: 10, duration });
  const t1 = threadTicks([s.child.pid!]);
  let ticks = 0;
  for (const [k, v] of t1) ticks += v.ticks - (t0.get(k)?.ticks ?? 0);
  return {
    rps: r.requests.total / duration,
    cpu: (ticks * 1e4) / r.requests.total,
    errors: r.errors + r.non2xx,
  };
};
console.log(
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const WARM = Number(process.env.WARM ?? 8);
await burst(a, WARM);
await burst(b, WARM);
const ratios: number[] = [];
const cpuRatios: number[] = [];
const sums = { a: 0, b: 0, ca: 0, cb: 0 };
for (let i = 0; i < PAIRS; i++) {
  const first = i % 2 === 0;
  const x = first ? await burst(a, BURST) : undefined;
  const y = await burst(b, BURST);
  const ra = x ?? (await burst(a, BURST));
  ratios.push(y.rps / ra.rps);
  cpuRatios.push(y.cpu / ra.cpu);
  sums.a += ra.rps;
  sums.b += y.rps;
  sums.ca += ra.cpu;
  sums.cb += y.cpu;
  console.log(
    `pair ${i + 1}: A ${Math.round(ra.rps)} req/s ${ra.cpu.toFixed(0)} us/req, B ${Math.round(y.rps)} req/s ${y.cpu.toFixed(0)} us/req${ra.errors + y.errors ? ` errors ${ra.errors + y.errors}` : ''}`,
  );
}
const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
console.log(
  `B/A req/s: median ${med(ratios).toFixed(3)} (mean A ${Math.round(sums.a / PAIRS)}, B ${Math.round(sums.b / PAIRS)}); ` +
    `B/A CPU per request: median ${med(cpuRatios).toFixed(3)} (mean A ${(sums.ca / PAIRS).toFixed(0)} us, B ${(sums.cb / PAIRS).toFixed(0)} us); load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
a.child.disconnect();
b.child.disconnect();
