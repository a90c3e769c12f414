// RSS growth of the router and of its host process while a 100 MiB upload streams through them
// to a worker that reads it in chunks (issue #13's goal: under 32 MiB for the two; the test
// stream-memory.e2e asserts it), a few rounds in one run, with the router's peak ArrayBuffer
// growth (body pieces alive or awaiting a GC) and the CPU time of each process per round.
// The warm-up request takes the host's parked isolate, and the host boots a replacement (~30 MiB)
// in the next seconds: the rounds start once the host's RSS is steady again, and that growth is
// printed apart (before, it landed in round 1 and read as the upload's).
//
//   npm run bench:upload-memory -w @pyworkers/router   (BENCH_ROUNDS=5)
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRouter } from '../src/index.js';
import { peakGrowth, treeRss } from '../test/helpers/rss.js';
import { streamsBundle } from '../test/helpers/streams-worker.js';
import { upload } from '../test/helpers/upload-client.js';

const MiB = 1024 * 1024;

/** CPU time (user + system, ms) of every thread of `pid`. */
function cpuMs(pid: number): number {
  let ticks = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks * 10;
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const bundle = await streamsBundle();
const router = createRouter({
  hostKind: 'process',
  hosts: 1,
  maxBodyBytes: 256 * MiB,
  eventSources: false,
  workers: [{ name: 'streams', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
});
const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
try {
  await upload(port, '/count', 4 * MiB);
  const hostPid = (await router.status()).hosts[0]!.pid;
  // Steady: under 1 MiB of change over the last second (at most 20 s).
  const start = treeRss(hostPid);
  const seen = [start];
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200));
    seen.push(treeRss(hostPid));
    if (seen.length > 5 && Math.abs(seen.at(-1)! - seen.at(-6)!) < MiB) break;
  }
  console.log(
    `after the warm-up request (the replacement parked isolate boots): host +${((seen.at(-1)! - start) / MiB).toFixed(1)} MiB in ${((seen.length - 1) * 0.2).toFixed(1)} s`,
  );
  console.log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const cpu0 = { router: cpuMs(process.pid), host: cpuMs(hostPid) };
    const { result, ...grown } = await peakGrowth({ router: process.pid, host: hostPid }, () =>
      upload(port, '/count', 100 * MiB),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = { router: cpuMs(process.pid) - cpu0.router, host: cpuMs(hostPid) - cpu0.host };
    const { size } = JSON.parse(result) as { size: number };
    if (size !== 100 * MiB) throw new Error(`the worker read ${size} bytes`);
    console.log(
      `round ${i + 1}: router +${(grown.router / MiB).toFixed(1)} MiB (ArrayBuffers +${(grown.routerBuffers / MiB).toFixed(1)}), host +${(grown.host / MiB).toFixed(1)} MiB RSS, ${(100 / seconds).toFixed(0)} MiB/s, CPU router ${cpu.router} ms, host ${cpu.host} ms`,
    );
  }
} finally {
  await router.close();
}
