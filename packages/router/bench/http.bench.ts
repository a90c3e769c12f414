// Warm HTTP throughput, latency and memory, in one run, side by side: a bare node:http hello
// world, uvicorn (one process, a raw ASGI hello app, h11) when `python3 -m uvicorn` can run,
// the real `pyworkers serve` with its defaults (started as a user starts it, as a child process)
// and the router with one in-process host; then the RSS and PSS (shared pages counted once) of
// serve's whole process tree with 1 and with 20 warm hello workers. Absolute figures on a
// shared box are noise: read the ratios.
//
//   npm run bench:http -w @pyworkers/router
//   BENCH_SECONDS=8 BENCH_ROUNDS=3 BENCH_CONNECTIONS=10 BENCH_WORKERS=20 BENCH_PORT=18400
//   BENCH_SKIP_DENSITY=1 (no 20-worker run); serve is also measured with PYWORKERS_LANES=0 (A/B), BENCH_ONLY=density (only the RSS part),
//   BENCH_DIR=/some/dir (keep the projects there and reuse them on the next run),
//   BENCH_SERVE=source (serve this checkout's sources through tsx, as `npx pyworkers` does here,
//   instead of the build an installed package runs: `node packages/cli/dist/bin.js`, built first)
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 20);
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18400);
// What an installed package runs is its dist/ (no tsx loader, no esbuild service): that is
// what `pyworkers serve` is measured as, after building it (turbo: cached when up to date).
// BENCH_SERVE=source measures the checkout's bin shim, which runs the sources through tsx.
const FROM_SOURCE = process.env.BENCH_SERVE === 'source';
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(
  new URL(FROM_SOURCE ? '../../cli/bin/pyworkers.js' : '../../cli/dist/bin.js', import.meta.url),
);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};
const loadAtStart = load();
const keep = process.env.BENCH_DIR;
const root = keep ?? mkdtempSync(join(tmpdir(), 'pyw-http-bench-'));
mkdirSync(root, { recursive: true });
const only = process.env.BENCH_ONLY;
const children: ChildProcess[] = [];

// --- the servers --------------------------------------------------------------------------

const servers = fork(fileURLToPath(new URL('./http-servers.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx', '--conditions=source'],
});
children.push(servers);
const ports = await new Promise<{ bare: number; local: number }>((resolve) =>
  servers.once('message', (m) => resolve(m as { bare: number; local: number })),
);

const UVICORN_APP = `
BODY = b"Hello from uvicorn!\\n"
HEADERS = [(b"content-type", b"text/plain;charset=UTF-8"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
`;
function uvicornVersion(): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import uvicorn, h11; print(uvicorn.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}
const uvicorn = uvicornVersion();
let uvicornPort: number | undefined;
if (uvicorn) {
  writeFileSync(join(root, 'hello_asgi.py'), UVICORN_APP);
  uvicornPort = BASE_PORT + 2;
  children.push(
    spawn(
      'python3',
      [
        '-m',
        'uvicorn',
        'hello_asgi:app',
        '--http',
        'h11',
        '--lifespan',
        'off',
        '--no-access-log',
        '--log-level',
        'warning',
        '--host',
        '127.0.0.1',
        '--port',
        String(uvicornPort),
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
} else {
  console.log(
    'uvicorn: SKIPPED (python3 -c "import uvicorn, h11" failed; `pip install uvicorn` to compare)\n',
  );
}

function pyworkers(args: string[], cwd: string): void {
  execFileSync(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}
/** `pyworkers serve` as a user runs it: defaults, a child process, logs at warn. */
function serve(targets: string[], port: number, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'serve', ...targets, '--port', String(port)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PYWORKERS_LOG: 'warn', ...env },
  });
  children.push(child);
  return child;
}
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
async function portOpen(port: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// --- process tree RSS, as the OS counts it ---------------------------------------------------

function ppids(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(entry));
      kids.set(ppid, list);
    } catch {
      // gone
    }
  }
  return kids;
}
function rssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
/** Proportional set size: each shared page (node's binary, shared libraries) counted once over the processes sharing it. */
function pssKiB(pid: number): number {
  try {
    return Number(
      /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0,
    );
  } catch {
    return 0;
  }
}
const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};
/**
 * RSS of the server's whole process tree in MiB. In this checkout `bin/pyworkers.js` is a shim
 * that runs the sources in a child node (tsx); an installed package has no such shim, so the
 * shim's own RSS is left out (and printed) and the tree is summed from the server process down
 * (router, host processes, tsx's esbuild service).
 */
function treeRss(pid: number): {
  mib: number;
  pssMib: number;
  shimMib: number;
  processes: number;
} {
  const kids = ppids();
  let top = pid;
  let shim = 0;
  const first = kids.get(pid) ?? [];
  if (cmdline(pid).includes('bin/pyworkers.js') && first.length === 1) {
    shim = rssKiB(pid);
    top = first[0]!;
  }
  let sum = 0;
  let pss = 0;
  let n = 0;
  const walk = (p: number): void => {
    sum += rssKiB(p);
    pss += pssKiB(p);
    n++;
    for (const k of kids.get(p) ?? []) walk(k);
  };
  walk(top);
  return { mib: sum / 1024, pssMib: pss / 1024, shimMib: shim / 1024, processes: n };
}

// --- clients ----------------------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(port: number, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${port}${path}: status ${res.statusCode}`));
        else resolve(performance.now() - t0);
      });
    })
      .on('error', reject)
      .end();
  });
}
/** p50 of one request at a time over a warm keep-alive connection, in ms. */
async function sequentialP50(port: number, n = 1_000): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await get(port));
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)]!;
}
async function cannon(
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
    errors: r.errors + r.non2xx + r.timeouts,
  };
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

try {
  if (!FROM_SOURCE) {
    log('building dist/ (npx turbo run build --filter=pyworkers...)');
    execFileSync(
      'npx',
      ['turbo', 'run', 'build', '--filter=pyworkers...', '--output-logs=errors-only'],
      {
        cwd: REPO,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  // One hello project, as `pyworkers init` makes it, served with the defaults.
  log('pyworkers init + build (1 worker)');
  if (!existsSync(join(root, 'hello'))) pyworkers(['init', 'hello'], root);
  pyworkers(['build'], join(root, 'hello'));
  const servePort = BASE_PORT + 1;
  const served = serve(['hello'], servePort);
  // The same server without lanes (every request through the host process's main thread),
  // for the A/B in this run; started after the first one's RSS figures are taken.
  const noLanesPort = BASE_PORT + 4;
  let noLanes: ChildProcess | undefined;
  await portOpen(servePort);
  if (uvicornPort) await portOpen(uvicornPort, 30_000);

  const targets = {
    bare: { label: 'bare node:http hello world', port: ports.bare },
    ...(uvicornPort
      ? {
          uvicorn: {
            label: `uvicorn ${uvicorn} (1 process, raw ASGI, h11)`,
            port: uvicornPort,
          },
        }
      : {}),
    serve: {
      label: `\`pyworkers serve\` (defaults, ${FROM_SOURCE ? 'sources through tsx' : 'dist/'})`,
      port: servePort,
    },
    noLanes: { label: '`pyworkers serve`, PYWORKERS_LANES=0 (no lanes)', port: noLanesPort },
    local: { label: 'router, 1 in-process host', port: ports.local },
  } as Record<string, { label: string; port: number }>;

  // One request (the cold start on the routers), RSS as the issue counts it, then warm-up.
  await get(servePort);
  const afterOne = treeRss(served.pid!);
  // The parked pool refills 250 ms after a cold start (~0.4 s of booting); V8 frees its
  // garbage some seconds later: the same tree once that settled.
  await new Promise((r) => setTimeout(r, 3_000));
  const afterOneSettled = treeRss(served.pid!);
  if (only !== 'density') {
    noLanes = serve(['hello'], noLanesPort, { PYWORKERS_LANES: '0' });
    await portOpen(noLanesPort);
  } else delete targets.noLanes;
  log('warming');
  if (only !== 'density')
    for (const { port } of Object.values(targets)) for (let i = 0; i < 300; i++) await get(port);

  const results = new Map(
    Object.keys(targets).map((t) => [
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
  for (let round = 0; round < (only === 'density' ? 0 : ROUNDS); round++) {
    // Interleaved, so that noise from the shared machine hits every target alike.
    for (const [t, { port }] of Object.entries(targets)) {
      log(`round ${round + 1}/${ROUNDS}: ${t}`);
      const r = await cannon(port);
      const x = results.get(t)!;
      x.rps.push(r.rps);
      x.p50.push(r.p50);
      x.p99.push(r.p99);
      x.errors += r.errors;
      x.seq.push(await sequentialP50(port));
    }
  }
  const afterLoad = treeRss(served.pid!);
  await stop(served);
  if (noLanes) await stop(noLanes);

  const rps = (t: string): number => median(results.get(t)!.rps);
  if (only !== 'density')
    console.log(
      `## Warm HTTP on 127.0.0.1: autocannon ${CONNECTIONS} connections x ${DURATION} s, ` +
        `${ROUNDS} interleaved rounds (medians); load average ${loadAtStart} at start\n`,
    );
  if (only !== 'density') {
    console.log(
      '| server | req/s | vs bare | vs uvicorn | p50 (ms) | p99 (ms) | p50 one at a time (ms) | errors |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [t, { label }] of Object.entries(targets)) {
      const x = results.get(t)!;
      const r = rps(t);
      const vsUvicorn = uvicornPort ? `${(r / rps('uvicorn')).toFixed(2)}x` : 'n/a';
      console.log(
        `| ${label} | ${Math.round(r)} | ${((r / rps('bare')) * 100).toFixed(0)}% | ${vsUvicorn} | ` +
          `${median(x.p50)} | ${median(x.p99)} | ${median(x.seq).toFixed(3)} | ${x.errors} |`,
      );
    }
  }
  console.log(
    '\n## Memory of `pyworkers serve`, whole process tree (sums of VmRSS and of Pss, smaps_rollup, over /proc)\n',
  );
  console.log(
    '| workers | when | RSS (MiB) | PSS (MiB) | processes | per extra warm worker, RSS / PSS (MiB) |',
  );
  console.log('|---|---|---|---|---|---|');
  const row = (n: number, when: string, m: ReturnType<typeof treeRss>, per = ''): void =>
    console.log(
      `| ${n} | ${when} | ${m.mib.toFixed(0)} | ${m.pssMib.toFixed(0)} | ${m.processes} | ${per} |`,
    );
  row(1, 'after one request', afterOne);
  row(1, '3 s after that request', afterOneSettled);
  row(1, 'after the load above', afterLoad);

  if (!process.env.BENCH_SKIP_DENSITY && WORKERS > 1) {
    log(`pyworkers init + build (${WORKERS} workers)`);
    const names: string[] = [];
    for (let i = 1; i <= WORKERS; i++) {
      const name = `w${String(i).padStart(2, '0')}`;
      names.push(name);
      mkdirSync(join(root, 'many'), { recursive: true });
      if (!existsSync(join(root, 'many', name))) pyworkers(['init', name], join(root, 'many'));
      pyworkers(['build'], join(root, 'many', name));
    }
    const port = BASE_PORT + 3;
    const many = serve(
      names.map((n) => join('many', n)),
      port,
    );
    await portOpen(port);
    // One request each (a cold start), then a few more, so every worker is warm.
    for (const n of names) await get(port, `/${n}/`);
    const oneEach = treeRss(many.pid!);
    for (let i = 0; i < 5; i++) for (const n of names) await get(port, `/${n}/`);
    const warm = treeRss(many.pid!);
    // Twenty cold starts in a row grow the parked pool (a miss adds one, booted after the
    // burst); it gives one back per 5 s without a miss. Once the tree stopped changing (or
    // after two minutes): the warm workers and the pool at its resting size.
    const idleStart = Date.now();
    let settled = warm;
    for (let i = 0; i < 24; i++) {
      await new Promise((r) => setTimeout(r, 5_000));
      const now = treeRss(many.pid!);
      const change = Math.abs(settled.mib - now.mib);
      settled = now;
      if (change < 5) break;
    }
    const idleS = Math.round((Date.now() - idleStart) / 1000);
    await stop(many);
    const per = (x: ReturnType<typeof treeRss>, base = afterOne): string =>
      `${((x.mib - base.mib) / (WORKERS - 1)).toFixed(1)} / ${((x.pssMib - base.pssMib) / (WORKERS - 1)).toFixed(1)}`;
    row(WORKERS, 'one request each', oneEach, per(oneEach));
    row(WORKERS, 'six requests each', warm, per(warm));
    row(
      WORKERS,
      `${idleS} s idle after that, the tree steady (vs 1 worker 3 s after its request)`,
      settled,
      per(settled, afterOneSettled),
    );
  }
  console.log(
    FROM_SOURCE
      ? `\nServed from the sources through tsx (BENCH_SERVE=source). The bin shim of this checkout (bin/pyworkers.js; ${afterOne.shimMib.toFixed(0)} MiB) is not counted: an installed package has none.`
      : '\nServed as an installed package runs it: `node packages/cli/dist/bin.js serve` (dist/, no tsx).',
  );
  console.log(`load average at start ${loadAtStart}, at end ${load()}`);
} finally {
  agent.destroy();
  servers.disconnect();
  await Promise.all(children.map(stop));
  if (!keep) rmSync(root, { recursive: true, force: true });
}
