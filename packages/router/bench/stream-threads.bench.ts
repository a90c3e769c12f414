// Where the CPU of a 100 MiB streamed response goes, thread by thread (router process and its
// host process: main thread, isolate thread, V8/libuv helpers), per 100 MiB, after 3 warm-up
// runs; the rates of 4 measured runs. Complements bench:stream (which gives the ratio to bare
// node:http) when looking for the hop that costs most.
//
//   npm run bench:stream-threads -w @pyworkers/router   (KIND=process|local, CH=chunk bytes)
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createRouter } from '../src/index.js';
import { streamWorkerBundle } from './stream-worker.js';

const run = promisify(execFile);

const TOTAL = 100 * 1024 * 1024,
  CHUNK = Number(process.env.CH ?? 65536);
const bundle = await streamWorkerBundle('s', TOTAL, CHUNK);
const r = createRouter({
  workers: [{ name: 's', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
  hostKind: (process.env.KIND ?? 'process') as 'process',
  hosts: 1,
});
const port = (await r.listen({ port: 0, host: '127.0.0.1' })).port;
const threads = (pid: number) =>
  Object.fromEntries(
    readdirSync(`/proc/${pid}/task`).map((t) => {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const name = s.slice(s.indexOf('(') + 1, s.indexOf(')'));
      const f = s.split(') ')[1]!.split(' ');
      return [`${pid}/${t} ${name}`, (Number(f[11]) + Number(f[12])) * 10];
    }),
  );
const curl = async () =>
  (
    await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{speed_download}',
      `http://127.0.0.1:${port}/`,
    ])
  ).stdout;
for (let i = 0; i < 3; i++) await curl();
const pids = [process.pid, ...(await r.status()).hosts.map((h) => h.pid)];
const before: Record<string, number> = Object.assign({}, ...pids.map(threads));
const speeds: string[] = [];
for (let i = 0; i < 4; i++) speeds.push((Number(await curl()) / 1048576).toFixed(0));
const after: Record<string, number> = Object.assign({}, ...pids.map(threads));
console.log('MiB/s', speeds.join(' '));
for (const k of Object.keys(after)) {
  const d = (after[k]! - (before[k] ?? 0)) / 4;
  if (d > 0) console.log(String(d).padStart(6), 'ms/100MiB', k);
}
await r.close();
