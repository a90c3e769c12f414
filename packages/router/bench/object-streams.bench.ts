// What a streamed response body costs from a Durable Object (`stub.fetch`) and from a service
// entrypoint (`fetch` on a binding that names an `entrypoint`): a client asks a caller worker,
// which answers with the target's response. Time to first byte for a target that yields
// "first", sleeps 1.5 s and yields "second"; MB/s of a body read whole by the caller
// (`await res.bytes()`). Timed at the client over real HTTP on 127.0.0.1. With two host
// processes the object is one whose id places it on the other host than the caller.
// Run: npm run bench:object-streams -w @pyworkers/router   (BENCH_ROUNDS=5, BENCH_MIB=50,
// BENCH_HOSTS=local for an in-process host; default two processes)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { createRouter } from '../src/index.js';
import { objectHostIndex } from '../src/objects/placement.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MIB = Number(process.env.BENCH_MIB ?? 50);
const local = process.env.BENCH_HOSTS === 'local';

const targets = `
import asyncio
from workers import DurableObject, Response, WorkerEntrypoint

CHUNK = bytes(range(256)) * 4096  # 1 MiB


def answer(path):
    if path == "slow":
        async def body():
            yield "first"
            await asyncio.sleep(1.5)
            yield "second"
        return Response(body())
    mib = int(path.split("/")[1])
    async def body():
        for _ in range(mib):
            yield CHUNK
    return Response(body())


class Streamer(DurableObject):
    async def fetch(self, request):
        return answer(request.url.split("/", 3)[3])


class Chunks(WorkerEntrypoint):
    async def fetch(self, request):
        return answer(request.url.split("/", 3)[3])
`;

const caller = `
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        via, name, path = request.url.split("/", 3)[3].split("/", 2)
        if via == "id":
            return Response(str(self.env.STREAMER.id_from_name(name)))
        target = self.env.STREAMER.get_by_name(name) if via == "do" else self.env.CHUNKS
        if path.startswith("read/"):
            res = await target.fetch("https://target/big/" + path.split("/")[1])
            return Response(str(len(await res.bytes())))
        return await target.fetch("https://target/" + path)
`;

async function bundleOf(name: string, source: string, bindings: object): Promise<Bundle> {
  return decodeBundle(
    await buildBundle({
      name,
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(source)]]),
      vars: {},
      bindings: bindings as never,
    }),
  );
}

const [targetBundle, callerBundle] = await Promise.all([
  bundleOf('targets', targets, {
    bindings: [],
    durableObjects: {
      classes: ['Streamer'],
      migrations: [{ tag: 'v1', new_sqlite_classes: ['Streamer'] }],
    },
  }),
  bundleOf('caller', caller, {
    bindings: [
      {
        type: 'durable_object_namespace',
        name: 'STREAMER',
        className: 'Streamer',
        scriptName: 'targets',
      },
      { type: 'service', name: 'CHUNKS', service: 'targets', entrypoint: 'Chunks' },
    ],
  }),
]);
const stateDir = mkdtempSync(join(tmpdir(), 'pyw-bench-object-streams-'));
const state = { stateDir, projectDir: stateDir };
const hosts = local ? 1 : 2;
const router = createRouter({
  hostKind: local ? 'local' : 'process',
  hosts,
  eventSources: false,
  workers: [
    { name: 'caller', routes: [{ pathPrefix: '/' }], bundle: async () => callerBundle, state },
    {
      name: 'targets',
      routes: [{ pathPrefix: '/targets/' }],
      bundle: async () => targetBundle,
      state,
    },
  ],
});
const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${port}`;

/** Time to the first body chunk and to the end, and the bytes, of GET `path`. */
async function timed(path: string): Promise<{ first: number; total: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/${path}`);
  let first = 0;
  let bytes = 0;
  let text = '';
  for await (const chunk of res.body!) {
    if (!first) first = performance.now() - t0;
    bytes += chunk.byteLength;
    if (res.status !== 200 || bytes < 64) text += Buffer.from(chunk).toString();
  }
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text}`);
  return { first, total: performance.now() - t0, bytes: path.includes('/read/') ? +text : bytes };
}

await timed('ep/-/read/1');
const callerHost = (await router.status()).hosts.find((h) =>
  h.workers.some((w) => w.worker === 'caller' && w.isolates),
)?.id;
// An object on the other host than the caller (any, with one host).
let name = 'n0';
for (let i = 0; i < 64; i++) {
  const id = await (await fetch(`${base}/id/n${i}/x`)).text();
  name = `n${i}`;
  if (hosts === 1 || objectHostIndex(id, hosts) !== callerHost) break;
}
await timed(`do/${name}/read/1`);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const load = loadavg()[0]!.toFixed(2);
const rows: [string, string][] = [];
for (const [label, via] of [
  ['Durable Object stub.fetch', `do/${name}`],
  ['entrypoint fetch', 'ep/-'],
] as const) {
  const ttfb: number[] = [];
  const read: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ttfb.push((await timed(`${via}/slow`)).first);
    const t = await timed(`${via}/read/${MIB}`);
    if (t.bytes !== MIB * 1024 * 1024) throw new Error(`${via}: ${t.bytes} bytes`);
    read.push((MIB * 1.048576) / (t.total / 1000));
  }
  rows.push([`${label}: time to first byte, 1.5 s-sleep target`, `${median(ttfb).toFixed(0)} ms`]);
  rows.push([`${label}: ${MIB} MiB read whole by the caller`, `${median(read).toFixed(0)} MB/s`]);
}
await router.close();
rmSync(stateDir, { recursive: true, force: true });
console.log(
  `object/entrypoint streams, ${local ? 'in-process host' : 'two host processes'} (caller on host ${callerHost}, object ${name}); ${ROUNDS} rounds, medians; load ${load} at start`,
);
for (const [what, value] of rows) console.log(`| ${what} | ${value} |`);
process.exit(0);
