// A service binding fetch's response body streams from the target worker to the caller (and
// on to the client) instead of being buffered in the router: the first chunk arrives while the
// target still runs, a body past the router's body limit passes, and a body the caller leaves
// unread is cancelled in the target. Real router, real isolates, real HTTP on 127.0.0.1.
import { createHash } from 'node:crypto';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { memoryLogger, waitFor } from './fixtures.js';

// Unread bodies are cancelled after this (the default is 30 s).
// Wide enough that the cancels the tests expect first (request over, isolate gone) beat it on a
// CI box running every suite at once.
const IDLE_MS = 5_000;
process.env.PYWORKERS_SERVICE_STREAM_IDLE_MS = String(IDLE_MS);
const MIB = 1024 * 1024;

const server = `
import asyncio
from workers import Response, WorkerEntrypoint

CHUNK = bytes(range(256)) * 4096  # 1 MiB


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path == "ping":
            return Response("pong")
        if path == "slow":
            async def body():
                yield "first"
                await asyncio.sleep(1.5)
                yield "second"
            return Response(body())
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
                    print(f"ticks {tag} closed after {i}")
            return Response(body())
        return Response("no route " + path, status=404)
`;

const client = `
import asyncio
import hashlib
import json
import os
from workers import BindingError, Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        svc = self.env.SERVER
        if path == "ping":
            return Response(await (await svc.fetch("https://server/ping")).text())
        if path == "slow":
            return await svc.fetch("https://server/slow")
        if path.startswith("bytes/"):
            res = await svc.fetch("https://server/big/" + path.split("/")[1])
            data = await res.bytes()
            return Response(json.dumps([len(data), hashlib.sha256(data).hexdigest()]))
        if path.startswith("hash/"):
            res = await svc.fetch("https://server/big/" + path.split("/")[1])
            digest, size = hashlib.sha256(), 0
            async for chunk in res.iter_bytes():
                digest.update(chunk)
                size += len(chunk)
            return Response(json.dumps([size, digest.hexdigest()]))
        if path.startswith("pass/"):
            return await svc.fetch("https://server/big/" + path.split("/")[1])
        if path.startswith("first-only/"):
            res = await svc.fetch("https://server/ticks/" + path.split("/")[1])
            async for chunk in res.iter_bytes():
                return Response("got " + chunk.decode())
        if path.startswith("crash/"):
            res = await svc.fetch("https://server/ticks/" + path.split("/")[1])
            async for _chunk in res.iter_bytes():
                os._exit(3)  # ends this isolate's thread, with the body open
        if path.startswith("late/"):
            res = await svc.fetch("https://server/ticks/" + path.split("/")[1])
            await asyncio.sleep(${(IDLE_MS * 2) / 1000})
            try:
                await res.text()
            except BindingError as exc:
                return Response(str(exc))
            return Response("read it all", status=500)
        return Response("no route " + path, status=404)
`;

async function bundleOf(
  name: string,
  source: string,
  bindings: { type: 'service'; name: string; service: string }[] = [],
): Promise<Bundle> {
  const bytes = await buildBundle({
    name,
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(source)]]),
    vars: {},
    bindings: { bindings },
  });
  return decodeBundle(bytes);
}

/** The hash of `mib` MiB of the server's chunk (bytes 0..255 repeated). */
function expectedHash(mib: number): string {
  const chunk = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i++) chunk[i] = i % 256;
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) hash.update(chunk);
  return hash.digest('hex');
}

let serverBundle: Bundle;
let clientBundle: Bundle;
beforeAll(async () => {
  serverBundle = await bundleOf('server', server);
  clientBundle = await bundleOf('client', client, [
    { type: 'service', name: 'SERVER', service: 'server' },
  ]);
}, 300_000);

// One host process runs a call itself once the target is warm there (its own stream table);
// two put the workers where placement says, so calls may cross the router.
for (const [hostKind, hosts] of [
  ['local', 1],
  ['process', 1],
  ['process', 2],
] as const) {
  describe(`service fetch bodies stream (${hostKind} hosts x${hosts})`, () => {
    let router: Router;
    let base: string;
    const logger = memoryLogger();
    beforeAll(async () => {
      router = createRouter({
        hostKind,
        hosts,
        logger,
        eventSources: false,
        // The old buffered path refused bodies past this.
        maxBodyBytes: 8 * MIB,
        workers: [
          { name: 'client', routes: [{ pathPrefix: '/' }], bundle: async () => clientBundle },
          { name: 'server', routes: [{ pathPrefix: '/server' }], bundle: async () => serverBundle },
        ],
      });
      const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${port}`;
      // Both workers warm (and the target warm beside the caller, where it can be).
      for (let i = 0; i < 3; i++) expect(await (await fetch(`${base}/ping`)).text()).toBe('pong');
    }, 300_000);
    afterAll(async () => {
      await router?.close();
    });
    const closed = (tag: string): boolean =>
      logger.lines.some((l) => (l.msg ?? '').startsWith(`ticks ${tag} closed after`));

    it('the first chunk reaches the client while the target still runs', async () => {
      const t0 = performance.now();
      const res = await fetch(`${base}/slow`);
      expect(res.status).toBe(200);
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
      const tEnd = performance.now() - t0;
      expect(decoder.decode(first.value)).toBe('first');
      expect(rest).toBe('second');
      // The target sleeps 1.5 s between its chunks: buffered, both came at once after it
      // (relative to the end, not the start: a loaded CI box is slow to the first chunk).
      expect(tEnd - tFirst).toBeGreaterThan(1_000);
    });

    it('a body past the old buffered limit reaches the caller whole (bytes(), iterated)', async () => {
      const [size, hash] = JSON.parse(await (await fetch(`${base}/bytes/24`)).text());
      expect([size, hash]).toEqual([24 * MIB, expectedHash(24)]);
      // Past the router's 100 MiB default too, read as it comes.
      const [size2, hash2] = JSON.parse(await (await fetch(`${base}/hash/110`)).text());
      expect([size2, hash2]).toEqual([110 * MIB, expectedHash(110)]);
    });

    it('a 110 MiB body streams through the caller to the client', async () => {
      const res = await fetch(`${base}/pass/110`);
      expect(res.status).toBe(200);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of res.body!) {
        hash.update(chunk);
        size += chunk.byteLength;
      }
      expect([size, hash.digest('hex')]).toEqual([110 * MIB, expectedHash(110)]);
    });

    it('a body the caller leaves unread is cancelled in the target when its request ends', async () => {
      const t0 = performance.now();
      const text = await (await fetch(`${base}/first-only/${hostKind}${hosts}`)).text();
      expect(text).toBe('got first');
      // The target's generator saw the disconnect long before its 10 s of ticks ran out
      // (and before the router's idle timeout).
      await waitFor(async () => closed(`${hostKind}${hosts}`), 9_000);
      expect(performance.now() - t0).toBeLessThan(IDLE_MS + 1_500);
      await waitFor(async () => (await router.status()).serviceStreams === 0, 5_000);
    });

    it("a body is cancelled when the caller's isolate goes away", async () => {
      const t0 = performance.now();
      const res = await fetch(`${base}/crash/crash${hostKind}${hosts}`);
      expect(res.status).toBe(502);
      await res.text();
      await waitFor(async () => closed(`crash${hostKind}${hosts}`), 9_000);
      // Not the idle timeout's doing.
      expect(performance.now() - t0).toBeLessThan(IDLE_MS - 500);
      await waitFor(async () => (await router.status()).serviceStreams === 0, 5_000);
    });

    it('a body nobody reads is cancelled after the idle timeout; a late read says so', async () => {
      const text = await (await fetch(`${base}/late/idle${hostKind}${hosts}`)).text();
      expect(text).toMatch(
        /SERVER\.fetch\(\): reading the response body: the response body of a service fetch \(stream \S+\) is gone: nobody read it for 5 s \[ERR_SERVICE_STREAM_GONE\]/,
      );
      expect(closed(`idle${hostKind}${hosts}`)).toBe(true);
      expect((await router.status()).serviceStreams).toBe(0);
    });
  });
}
