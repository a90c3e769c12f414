// Cold starts measured from outside, over HTTP, the way a user meets them: two hello workers
// served by the real `pyworkers serve a b --max-isolates 1` (so every request that alternates
// between them is a cold start), and `pyworkers dev` timed from an edit to the first response
// that shows it. Prints medians and p90s; run it on a quiet box and say the load.
//
//   npx tsx packages/cli/bench/cold-http.bench.ts [--spaced 20] [--burst 30] [--fleet 8] [--firsts 5] [--port 18300] [--skip-dev]
//   (PYWORKERS_MAX_POOL_SIZE=1 in the environment: the fixed pool of one, for an A/B)
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, portOpen, run } from './serve-helpers.js';

const { values } = parseArgs({
  options: {
    spaced: { type: 'string', default: '20' },
    burst: { type: 'string', default: '30' },
    port: { type: 'string', default: '18300' },
    'skip-dev': { type: 'boolean', default: false },
    fleet: { type: 'string', default: '8' },
    firsts: { type: 'string', default: '5' },
  },
});
const PORT = Number(values.port);

function start(args: string[], cwd: string): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PYWORKERS_LOG: 'warn' },
  });
}

async function timed(url: string): Promise<{ ms: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
  return { ms: performance.now() - t0, text };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (xs: number[]): string =>
  `p50 ${pct(xs, 50).toFixed(1)} ms, p90 ${pct(xs, 90).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)} ms (n=${xs.length})`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * The bench's own first `fetch` loads undici lazily (~35 ms here): spent on a throwaway local
 * server first, so the first timed request measures the server, as curl would.
 */
async function warmClient(): Promise<void> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await (await fetch(`http://127.0.0.1:${port}/`)).text();
  await new Promise((r) => server.close(r));
}

/**
 * The first request right after the port opens, over `n - 1` starts of `args` (each stopped
 * after it): one sample per start is mostly noise on a busy box. The caller adds the last.
 */
async function firstRequests(
  args: string[],
  cwd: string,
  port: number,
  url: string,
): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 1; i < Number(values.firsts); i++) {
    const once = start(args, cwd);
    try {
      await portOpen(port);
      ms.push((await timed(url)).ms);
    } finally {
      await stop(once);
    }
  }
  return ms;
}

const samples = (xs: number[]): string =>
  `${fmt(xs)} [${xs.map((ms) => ms.toFixed(0)).join(', ')}]`;

async function main(): Promise<void> {
  await warmClient();
  const root = mkdtempSync(join(tmpdir(), 'pyw-cold-http-'));
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  try {
    for (const name of ['a', 'b']) await run(['init', name], root);
    // Build once outside the timings (serve would build too, before it listens).
    for (const name of ['a', 'b']) await run(['build'], join(root, name));

    const firsts = await firstRequests(
      ['serve', 'a', 'b', '--port', String(PORT)],
      root,
      PORT,
      `http://127.0.0.1:${PORT}/a/`,
    );
    const serve = start(['serve', 'a', 'b', '--max-isolates', '1', '--port', String(PORT)], root);
    try {
      await portOpen(PORT);
      firsts.push((await timed(`http://127.0.0.1:${PORT}/a/`)).ms);
      console.log(`serve: first request after the port opened: ${samples(firsts)}`);
      const spaced: number[] = [];
      for (let i = 0; i < Number(values.spaced); i++) {
        await sleep(300);
        spaced.push((await timed(`http://127.0.0.1:${PORT}/${i % 2 ? 'a' : 'b'}/`)).ms);
      }
      console.log(`serve: cold starts 300 ms apart: ${fmt(spaced)}`);
      await sleep(1000);
      const burst: number[] = [];
      for (let i = 0; i < Number(values.burst); i++) {
        burst.push((await timed(`http://127.0.0.1:${PORT}/${i % 2 ? 'a' : 'b'}/`)).ms);
      }
      console.log(`serve: back-to-back alternating cold starts: ${fmt(burst)}`);
    } finally {
      await stop(serve);
    }

    // A fleet's first requests, one after another (a deploy, or traffic finding many workers
    // at once): each is a cold start of another worker, faster than one pool refill.
    const fleet = Number(values.fleet);
    if (fleet > 0) {
      const names = Array.from({ length: fleet }, (_, k) => `f${k}`);
      for (const name of names) {
        await run(['init', name], root);
        await run(['build'], join(root, name));
      }
      const served = start(['serve', ...names, '--port', String(PORT + 2)], root);
      try {
        await portOpen(PORT + 2);
        await sleep(1000);
        const firsts: number[] = [];
        for (const name of names)
          firsts.push((await timed(`http://127.0.0.1:${PORT + 2}/${name}/`)).ms);
        console.log(`serve: first requests of ${fleet} workers, one after another: ${fmt(firsts)}`);
      } finally {
        await stop(served);
      }
    }

    if (values['skip-dev']) return;
    const devPort = PORT + 1;
    const devUrl = `http://127.0.0.1:${devPort}/`;
    const devFirsts = await firstRequests(
      ['dev', '--port', String(devPort)],
      join(root, 'a'),
      devPort,
      devUrl,
    );
    const dev = start(['dev', '--port', String(devPort)], join(root, 'a'));
    try {
      await portOpen(devPort);
      devFirsts.push((await timed(devUrl)).ms);
      console.log(`dev: first request after the port opened: ${samples(devFirsts)}`);
      const entry = join(root, 'a', 'src', 'entry.py');
      const edits: number[] = [];
      for (let i = 0; i < 5; i++) {
        await sleep(500);
        const source = readFileSync(entry, 'utf8');
        const marker = `edit-${i}`;
        const t0 = performance.now();
        writeFileSync(
          entry,
          source.replace(/GREETING_SUFFIX = ".*"/, `GREETING_SUFFIX = "${marker}"`),
        );
        for (;;) {
          const { text } = await timed(`http://127.0.0.1:${devPort}/`);
          if (text.includes(marker)) break;
          await sleep(5);
        }
        edits.push(performance.now() - t0);
      }
      console.log(`dev: edit to first response showing it: ${fmt(edits)}`);
    } finally {
      await stop(dev);
    }
  } finally {
    console.log(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
