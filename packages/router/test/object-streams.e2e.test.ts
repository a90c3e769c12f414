// The response body of a Durable Object's fetch (through `stub.fetch`) and of an entrypoint's
// fetch (a service binding that names an `entrypoint`) streams to the caller as the target
// produces it, as a plain service fetch's does: the first chunk arrives while the target still
// runs, a large body arrives whole, and a body the caller leaves unread is cancelled in the
// target. With two host processes, the object lives on the host its id hashes to: the tests
// run for an object beside its caller and for one on the other host (the body then read from
// that host's table, over the peer channel or through the router). Real router, real
// isolates, real HTTP on 127.0.0.1.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { objectHostIndex } from '../src/objects/placement.js';
import { memoryLogger, waitFor } from './fixtures.js';

const MIB = 1024 * 1024;

// The targets (their own 48 MiB heap cap: a 50 MiB body cannot be held whole there).
const objects = `
import asyncio
from workers import DurableObject, Response, WorkerEntrypoint

CHUNK = bytes(range(256)) * 4096  # 1 MiB


def streamed(path, where):
    if path == "slow":
        async def body():
            yield "first"
            await asyncio.sleep(1.5)
            yield "second"
        return Response(body())
    if path == "js-slow":
        from js import ReadableStream, Object
        from pyodide.ffi import create_proxy, to_js

        async def pull(controller):
            step = pull.step = getattr(pull, "step", 0) + 1
            if step == 1:
                controller.enqueue(to_js(b"first"))
            elif step == 2:
                await asyncio.sleep(1.5)
                controller.enqueue(to_js(b"second"))
            else:
                controller.close()
        source = Object.new()
        source.pull = create_proxy(pull)
        return Response(ReadableStream.new(source))
    if path.startswith("big/"):
        mib = int(path.split("/")[1])
        async def body():
            for _ in range(mib):
                yield CHUNK
        return Response(body(), headers={"content-type": "application/octet-stream"})
    if path.startswith("ticks/"):
        tag = path.split("/")[1]
        async def body():
            i = 0
            try:
                yield "first"
                for i in range(100):
                    await asyncio.sleep(0.1)
                    yield f" tick {i}"
            finally:
                print(f"ticks {tag} closed after {i} in {where}")
        return Response(body())
    return Response("no route " + path, status=404)


class Streamer(DurableObject):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path == "count":
            n = (await self.ctx.storage.get("n") or 0) + 1
            await self.ctx.storage.put("n", n)
            return Response(str(n))
        return streamed(path, "object")


class Chunks(WorkerEntrypoint):
    async def fetch(self, request):
        return streamed(request.url.split("/", 3)[3], "entrypoint")
`;

const client = `
import hashlib
import json
import time
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        # /<via>/<object name>/<what...>: via "do" (a stub) or "ep" (the entrypoint)
        via, name, path = request.url.split("/", 3)[3].split("/", 2)
        if via == "id":
            return Response(str(self.env.STREAMER.id_from_name(name)))
        if via == "do":
            target = self.env.STREAMER.get_by_name(name)
        else:
            target = self.env.CHUNKS
        if path.startswith("pass/"):
            return await target.fetch("https://target/" + path[5:])
        if path.startswith("hash/"):
            res = await target.fetch("https://target/big/" + path.split("/")[1])
            data = await res.bytes()
            return Response(json.dumps([len(data), hashlib.sha256(data).hexdigest()]))
        if path.startswith("first-only/"):
            res = await target.fetch("https://target/ticks/" + path.split("/")[1])
            async for chunk in res.iter_bytes():
                return Response("got " + chunk.decode())
        if path == "gate":
            # A streaming answer does not hold the object's input gate: another event of the
            # same object runs while its body is still coming.
            t0 = time.monotonic()
            res = await target.fetch("https://target/slow")
            body = res.iter_bytes()
            first = await anext(body)
            t_first = time.monotonic() - t0
            count = await (await target.fetch("https://target/count")).text()
            t_count = time.monotonic() - t0
            rest = b"".join([chunk async for chunk in body])
            return Response(json.dumps([first.decode(), count, rest.decode(), t_first, t_count]))
        return Response("no route " + path, status=404)
`;

const OBJECT_HEAP_BYTES = 48 * MIB;

async function bundleOf(name: string, source: string, bindings: object, limits = {}) {
  const bytes = await buildBundle({
    name,
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(source)]]),
    vars: {},
    bindings: bindings as never,
    limits,
  });
  return decodeBundle(bytes);
}

const objectsBundle = (): Promise<Bundle> =>
  bundleOf(
    'objects',
    objects,
    {
      bindings: [],
      durableObjects: {
        classes: ['Streamer'],
        migrations: [{ tag: 'v1', new_sqlite_classes: ['Streamer'] }],
      },
    },
    { memoryBytes: OBJECT_HEAP_BYTES },
  );

const clientBundle = (): Promise<Bundle> =>
  bundleOf('client', client, {
    bindings: [
      {
        type: 'durable_object_namespace',
        name: 'STREAMER',
        className: 'Streamer',
        scriptName: 'objects',
      },
      { type: 'service', name: 'CHUNKS', service: 'objects', entrypoint: 'Chunks' },
    ],
  });

/** The hash of `mib` MiB of the target's chunk (bytes 0..255 repeated). */
function expectedHash(mib: number): string {
  const chunk = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i++) chunk[i] = i % 256;
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) hash.update(chunk);
  return hash.digest('hex');
}

/** Reads `res` as it comes: the first chunk's text and when it came, the rest, when it ended. */
async function timed(res: Response, t0: number) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const first = await reader.read();
  const tFirst = performance.now() - t0;
  let rest = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += decoder.decode(value, { stream: true });
  }
  return { first: decoder.decode(first.value), tFirst, rest, tEnd: performance.now() - t0 };
}

let targetBundle: Bundle;
let callerBundle: Bundle;
let stateDir: string;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'pyw-object-streams-'));
  [targetBundle, callerBundle] = await Promise.all([objectsBundle(), clientBundle()]);
}, 300_000);
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

// Two host processes: with the peer channel (the caller's host reads the other host's table
// directly) and without it (the body comes to the router's table on the body channel).
for (const [hostKind, hosts, peers] of [
  ['local', 1, true],
  ['process', 2, true],
  ['process', 2, false],
] as const) {
  describe(`object and entrypoint fetch bodies stream (${hostKind} hosts x${hosts}${peers ? '' : ', no peer channel'})`, () => {
    let router: Router;
    let base: string;
    const logger = memoryLogger();
    /** Object names: one whose object lives on each host. */
    const names: string[] = [];
    beforeAll(async () => {
      if (!peers) process.env.PYWORKERS_PEER_CHANNEL = '0';
      try {
        router = createRouter({
          hostKind,
          hosts,
          logger,
          eventSources: false,
          maxBodyBytes: 8 * MIB,
          workers: [
            {
              name: 'client',
              routes: [{ pathPrefix: '/' }],
              bundle: async () => callerBundle,
              state: { stateDir, projectDir: stateDir },
            },
            {
              name: 'objects',
              routes: [{ pathPrefix: '/objects/' }],
              bundle: async () => targetBundle,
              state: { stateDir, projectDir: stateDir },
            },
          ],
        });
      } finally {
        delete process.env.PYWORKERS_PEER_CHANNEL;
      }
      const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${port}`;
      for (let i = 0; names.length < hosts && i < 64; i++) {
        const id = await (await fetch(`${base}/id/n${i}/x`)).text();
        expect(id).toMatch(/^[0-9a-f]{64}$/);
        if (!names.some((n) => n.endsWith(`@${objectHostIndex(id, hosts)}`)))
          names.push(`n${i}@${objectHostIndex(id, hosts)}`);
      }
      expect(names.length).toBe(hosts);
    }, 300_000);
    afterAll(async () => {
      await router?.close();
    });
    const closed = (tag: string): boolean =>
      logger.lines.some((l) => (l.msg ?? '').startsWith(`ticks ${tag} closed after`));
    const ticksBeforeClose = (tag: string): number =>
      Number(
        logger.lines
          .map((l) => l.msg ?? '')
          .find((m) => m.startsWith(`ticks ${tag} closed after`))
          ?.split(' ')[4],
      );
    /** `do/<name>` for each object, and `ep/-` (the entrypoint). */
    const targets = (): string[] => [...names.map((n) => `do/${n.split('@')[0]}`), 'ep/-'];

    it('the first chunk reaches the client while the object (or entrypoint) still runs', async () => {
      for (const target of targets()) {
        for (const path of ['slow', 'js-slow']) {
          const t0 = performance.now();
          const res = await fetch(`${base}/${target}/pass/${path}`);
          expect(res.status).toBe(200);
          const got = await timed(res, t0);
          expect([target, path, got.first, got.rest]).toEqual([target, path, 'first', 'second']);
          // The target sleeps 1.5 s between its chunks: buffered, both came at once after it.
          // (Relative to the end, not to the start: a CI box running every suite at once took
          // 1.06 s for the first chunk.)
          expect(got.tEnd - got.tFirst, `${target} ${path}`).toBeGreaterThan(1_000);
        }
      }
    });

    it('a 50 MiB body reaches the caller whole (the target could not hold it: 48 MiB heap)', async () => {
      for (const target of targets()) {
        const res = await fetch(`${base}/${target}/hash/50`);
        const text = await res.text();
        expect(res.status, text).toBe(200);
        expect([target, ...JSON.parse(text)]).toEqual([target, 50 * MIB, expectedHash(50)]);
      }
    });

    it('a body the caller leaves unread is cancelled in the target when its request ends', async () => {
      for (const target of targets()) {
        const tag = `${hostKind}${hosts}${peers}-${target.replace('/', '-')}`;
        expect(await (await fetch(`${base}/${target}/first-only/${tag}`)).text()).toBe('got first');
        // The generator saw the disconnect long before its 10 s of ticks ran out (and before
        // the 30 s idle timeout of the stream table).
        await waitFor(async () => closed(tag), 20_000);
        // Cancelled part way (its last tick is 99), whatever the box's load made of the time.
        expect(ticksBeforeClose(tag)).toBeLessThan(99);
        await waitFor(async () => (await router.status()).serviceStreams === 0, 5_000);
      }
    });

    it('a streaming answer does not hold the object: its next event runs meanwhile', async () => {
      const name = names[0]!.split('@')[0];
      const t0 = performance.now();
      const [first, count, rest, tFirst, tCount] = (await (
        await fetch(`${base}/do/${name}/gate`)
      ).json()) as [string, string, string, number, number];
      expect([first, rest]).toEqual(['first', 'second']);
      expect(Number(count)).toBeGreaterThan(0);
      // The next event was answered before the body's second chunk (1.5 s after its first):
      // a held input gate would have answered it only after the body ended.
      expect(tCount - tFirst).toBeLessThan(1.2);
      expect(performance.now() - t0).toBeGreaterThan(1_400);
    });
  });
}
