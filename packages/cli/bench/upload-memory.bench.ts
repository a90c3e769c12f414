// What a 100 MiB streamed upload costs the real `pyworkers serve` in memory (issue #13: under
// 32 MiB of RSS growth), measured from outside: a worker that reads the body with
// `request.stream()`, curl POSTing a 100 MiB file chunked, the RSS of the router process and of
// its host process tree sampled every 25 ms, and each one's CPU time. Each server gets a GET, a
// 4 MiB upload, waits until its host is steady (the first request's replacement parked isolate
// boots, +40 MiB, printed apart), then two 100 MiB rounds. Several `--bin`s (e.g. two checkouts'
// dist/bin.js) are served in turn, `--pairs` times, for an A/B in one run.
//
//   npx tsx packages/cli/bench/upload-memory.bench.ts [--bin A --bin B] [--pairs 3] [--port 19400]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, portOpen } from './serve-helpers.js';

const { values } = parseArgs({
  options: {
    bin: { type: 'string', multiple: true },
    pairs: { type: 'string', default: '3' },
    port: { type: 'string', default: '19400' },
  },
});
const bins = values.bin?.length ? values.bin : [BIN];
const MiB = 1024 * 1024;
const ENTRY = `from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        chunks, size = 0, 0
        if request.method == "POST":
            async for chunk in request.stream():
                chunks += 1
                size += len(chunk)
        return Response.json({"chunks": chunks, "size": size})
`;

const rss = (pid: number): number => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
const children = (pid: number): number[] =>
  readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  });
const treeRss = (pid: number): number =>
  rss(pid) + children(pid).reduce((a, c) => a + treeRss(c), 0);
/** CPU time (ms) of every thread of `pid`, with `tree` of its children's too. */
const cpuMs = (pid: number, tree = false): number => {
  let ticks = 0;
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
  } catch {}
  const own = ticks * 10;
  return tree ? own + children(pid).reduce((a, c) => a + cpuMs(c, true), 0) : own;
};
const curl = (args: string[]): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '--fail', ...args], { maxBuffer: MiB }, (err, out) =>
      err ? reject(err) : resolve(out),
    ),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const node = (bin: string, args: string[], cwd: string): ChildProcess =>
  spawn(process.execPath, [bin, ...args], { cwd, stdio: 'ignore' });
const exited = (child: ChildProcess): Promise<unknown> =>
  new Promise((resolve) => child.once('exit', resolve));

const work = mkdtempSync(join(tmpdir(), 'pyworkers-upload-'));
try {
  const big = join(work, '100m.bin');
  const small = join(work, '4m.bin');
  writeFileSync(big, Buffer.alloc(100 * MiB, 7));
  writeFileSync(small, Buffer.alloc(4 * MiB, 7));
  // A project per bin, built by it.
  const projects = bins.map((bin, i) => ({ bin, dir: join(work, `p${i}`) }));
  for (const { bin, dir } of projects) {
    await exited(node(bin, ['init', dir], work));
    writeFileSync(join(dir, 'src', 'entry.py'), ENTRY);
    await exited(node(bin, ['build'], dir));
  }
  let port = Number(values.port);
  for (let pair = 1; pair <= Number(values.pairs); pair++) {
    for (const { bin, dir } of projects) {
      port++;
      const server = node(bin, ['serve', '--port', String(port)], dir);
      try {
        await portOpen(port, 20);
        const url = `http://127.0.0.1:${port}/`;
        await curl([url]);
        await curl(['-X', 'POST', '-T', small, '-H', 'Transfer-Encoding: chunked', url]);
        const host = children(server.pid!)[0]!;
        // Steady: under 1 MiB of change over the last second (at most 20 s).
        const seen = [treeRss(host)];
        for (let i = 0; i < 100; i++) {
          await sleep(200);
          seen.push(treeRss(host));
          if (seen.length > 5 && Math.abs(seen.at(-1)! - seen.at(-6)!) < MiB) break;
        }
        const rounds: string[] = [];
        for (let round = 1; round <= 2; round++) {
          const base = { router: rss(server.pid!), host: treeRss(host) };
          const peak = { ...base };
          const cpu0 = { router: cpuMs(server.pid!), host: cpuMs(host, true) };
          const sample = () => {
            peak.router = Math.max(peak.router, rss(server.pid!));
            peak.host = Math.max(peak.host, treeRss(host));
          };
          const timer = setInterval(sample, 25);
          const t0 = performance.now();
          const answer = JSON.parse(
            await curl(['-X', 'POST', '-T', big, '-H', 'Transfer-Encoding: chunked', url]),
          ) as { size: number };
          const seconds = (performance.now() - t0) / 1000;
          clearInterval(timer);
          sample();
          if (answer.size !== 100 * MiB) throw new Error(`the worker read ${answer.size} bytes`);
          const r = (peak.router - base.router) / MiB;
          const h = (peak.host - base.host) / MiB;
          rounds.push(
            `round ${round}: router +${r.toFixed(1)}, host +${h.toFixed(1)} = +${(r + h).toFixed(1)} MiB, ${(100 / seconds).toFixed(0)} MiB/s, CPU router ${cpuMs(server.pid!) - cpu0.router} ms, host ${cpuMs(host, true) - cpu0.host} ms`,
          );
        }
        console.log(
          `pair ${pair} ${bin} (load ${loadavg()[0]!.toFixed(1)}; after the warm-up, host +${((seen.at(-1)! - seen[0]!) / MiB).toFixed(1)} MiB): ${rounds.join(' | ')}`,
        );
      } finally {
        server.kill('SIGTERM');
        await exited(server);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
