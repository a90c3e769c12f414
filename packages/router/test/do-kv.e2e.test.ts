// `ctx.storage.kv`, the synchronous key-value API of a SQLite-backed Durable Object
// (Cloudflare's `ctx.storage.kv.get/put/delete/list`, used by example
// 14-websocket-stream-consumer): answers without `await`, shares one order with the async API,
// and is on disk once the object answered (a new router on the same state directory reads it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';

const entry = `
import json
from urllib.parse import parse_qs, urlsplit

from workers import DurableObject, Response, WorkerEntrypoint


class Notes(DurableObject):
    async def fetch(self, request):
        url = urlsplit(request.url)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        kv = self.ctx.storage.kv
        op = url.path.rsplit("/", 1)[-1]
        if op == "put":
            kv.put(q["key"], {"text": q["value"], "n": len(q["value"])})
            # The async API sees it at once, and in order with its own writes.
            seen = await self.ctx.storage.get(q["key"])
            await self.ctx.storage.put(q["key"] + ".async", "from put()")
            return Response.json({"async_get": seen, "kv_get": kv.get(q["key"] + ".async")})
        if op == "get":
            return Response.json(kv.get(q["key"]))
        if op == "delete":
            return Response.json([kv.delete(q["key"]), kv.delete(q["key"])])
        if op == "list":
            return Response.json(dict(kv.list(prefix=q.get("prefix", ""))))
        if op == "bad":
            try:
                kv.put("k", None)
            except TypeError as exc:
                return Response(str(exc), status=400)
        return Response("no such op", status=404)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        stub = self.env.NOTES.get(self.env.NOTES.idFromName("notes"))
        return await stub.fetch(request)
`;

const stateDir = mkdtempSync(join(tmpdir(), 'pyw-do-kv-'));
let bundle: Bundle;
beforeAll(async () => {
  bundle = decodeBundle(
    await buildBundle({
      name: 'notes',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: {},
      bindings: {
        bindings: [{ type: 'durable_object_namespace', name: 'NOTES', className: 'Notes' }],
        durableObjects: {
          classes: ['Notes'],
          migrations: [{ tag: 'v1', new_sqlite_classes: ['Notes'] }],
        },
      },
    }),
  );
}, 300_000);
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function start(hostKind: 'local' | 'process'): Router {
  return createRouter({
    hostKind,
    hosts: 1,
    eventSources: false,
    workers: [
      {
        name: 'notes',
        routes: [{ pathPrefix: '/' }],
        bundle: async () => bundle,
        state: { stateDir: join(stateDir, hostKind), projectDir: stateDir },
      },
    ],
  });
}

for (const hostKind of ['local', 'process'] as const) {
  describe(`ctx.storage.kv (${hostKind} hosts)`, () => {
    let router: Router;
    let base: string;
    const get = async (path: string): Promise<unknown> => {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      return res.json();
    };
    beforeAll(async () => {
      router = start(hostKind);
      base = `http://127.0.0.1:${(await router.listen({ port: 0, host: '127.0.0.1' })).port}`;
    }, 300_000);
    afterAll(async () => {
      await router?.close();
    });

    it('puts, gets, deletes and lists without await, in one order with the async API', async () => {
      expect(await get('/put?key=a&value=hello')).toEqual({
        async_get: { text: 'hello', n: 5 },
        kv_get: 'from put()',
      });
      await get('/put?key=b&value=world');
      expect(await get('/get?key=a')).toEqual({ text: 'hello', n: 5 });
      expect(await get('/get?key=missing')).toBeNull();
      expect(Object.keys((await get('/list?prefix=')) as object)).toEqual([
        'a',
        'a.async',
        'b',
        'b.async',
      ]);
      expect(await get('/delete?key=b')).toEqual([true, false]);
      expect(await get('/get?key=b')).toBeNull();
      const bad = await fetch(`${base}/bad`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('None cannot be stored');
    });

    it('is on disk once the object answered: a new router reads it back', async () => {
      await get('/put?key=kept&value=across');
      await router.close();
      router = start(hostKind);
      base = `http://127.0.0.1:${(await router.listen({ port: 0, host: '127.0.0.1' })).port}`;
      expect(await get('/get?key=kept')).toEqual({ text: 'across', n: 6 });
    });
  });
}
