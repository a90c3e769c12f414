// A worker opens a WebSocket to a server itself (Cloudflare's outbound WebSockets:
// `js.WebSocket.new(url)` with event listeners, as example 14-websocket-stream-consumer does),
// in a plain handler and in a Durable Object that keeps its connection between requests.
// A real `ws` server on 127.0.0.1, real isolates, both host kinds.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createRouter, type Router } from '../src/index.js';
import { waitFor } from './fixtures.js';

const entry = `
import asyncio
import json

import js
from pyodide.ffi import create_proxy
from workers import DurableObject, Response, WorkerEntrypoint


async def talk(url, texts):
    """Opens a WebSocket, sends each text, returns what came back and the close code."""
    loop = asyncio.get_running_loop()
    opened, closed = loop.create_future(), loop.create_future()
    got = []
    ws = js.WebSocket.new(url)
    ws.binaryType = "arraybuffer"
    ws.addEventListener("open", create_proxy(lambda e: opened.set_result(True)))
    ws.addEventListener("message", create_proxy(lambda e: got.append(
        e.data if isinstance(e.data, str) else list(e.data.to_bytes()))))
    ws.addEventListener("close", create_proxy(lambda e: closed.set_result(e.code)))
    await opened
    for text in texts:
        ws.send(text)
    ws.send(js.Uint8Array.new([1, 2, 3]))
    while len(got) < len(texts) + 1:
        await asyncio.sleep(0.01)
    ws.close(4000, "done")
    return got, await closed


class Consumer(DurableObject):
    """Keeps one connection to the feed between requests, and counts what it hears."""

    def __init__(self, state, env):
        super().__init__(state, env)
        self.ws = None
        self.seen = []

    def _on_message(self, event):
        # Outside any request, as example 14 does: the last event goes to storage.
        self.seen.append(event.data)
        self.ctx.storage.kv.put("last", event.data)

    async def fetch(self, request):
        if self.ws is None:
            self.ws = js.WebSocket.new(request.url.split("?feed=", 1)[1])
            self.ws.addEventListener("message", create_proxy(self._on_message))
        return Response(json.dumps(self.seen))

    async def last(self):
        return Response(json.dumps(await self.ctx.storage.get("last")))


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = request.url.split("?to=", 1)[-1]
        if "/talk" in request.url:
            got, code = await talk(url, ["hi", "there"])
            return Response.json({"got": got, "code": code})
        if "/last" in request.url:
            stub = self.env.CONSUMER.get(self.env.CONSUMER.idFromName("feed"))
            return await stub.last()
        if "/consumer" in request.url:
            stub = self.env.CONSUMER.get(self.env.CONSUMER.idFromName("feed"))
            return await stub.fetch(request)
        return Response("no route", status=404)
`;

const stateDir = mkdtempSync(join(tmpdir(), 'pyw-outbound-ws-'));
let bundle: Bundle;
let wss: WebSocketServer;
let server: string;
const routers: Router[] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  server = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  wss.on('connection', (socket, req) => {
    if (req.url === '/feed') {
      // A feed: a message every 20 ms while the connection lasts.
      let n = 0;
      const timer = setInterval(() => socket.send(`tick ${n++}`), 20);
      socket.on('close', () => clearInterval(timer));
      return;
    }
    socket.on('message', (data, binary) =>
      socket.send(binary ? Buffer.from(data as Buffer).reverse() : `echo:${data}`, { binary }),
    );
  });
  bundle = decodeBundle(
    await buildBundle({
      name: 'outbound',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: {},
      bindings: {
        bindings: [{ type: 'durable_object_namespace', name: 'CONSUMER', className: 'Consumer' }],
        durableObjects: {
          classes: ['Consumer'],
          migrations: [{ tag: 'v1', new_sqlite_classes: ['Consumer'] }],
        },
      },
    }),
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  await new Promise((r) => wss.close(r));
  rmSync(stateDir, { recursive: true, force: true });
});

for (const hostKind of ['process', 'local'] as const) {
  describe(`outbound WebSockets from a worker (${hostKind} hosts)`, () => {
    let base: string;
    beforeAll(async () => {
      const router = createRouter({
        hostKind,
        hosts: 1,
        eventSources: false,
        workers: [
          {
            name: 'outbound',
            routes: [{ pathPrefix: '/' }],
            bundle: async () => bundle,
            state: { stateDir: join(stateDir, hostKind), projectDir: stateDir },
          },
        ],
      });
      routers.push(router);
      const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${port}`;
    }, 300_000);

    it('opens a WebSocket from a handler: text and binary both ways, its close code', async () => {
      const res = await fetch(`${base}/talk?to=${server}/echo`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ got: ['echo:hi', 'echo:there', [3, 2, 1]], code: 4000 });
    });

    it('keeps a Durable Object connected to a feed between requests', async () => {
      const url = `${base}/consumer?feed=${server}/feed`;
      expect(await (await fetch(url)).json()).toEqual([]);
      let seen: string[] = [];
      await waitFor(async () => {
        seen = (await (await fetch(url)).json()) as string[];
        return seen.length >= 5;
      });
      expect(seen.slice(0, 3)).toEqual(['tick 0', 'tick 1', 'tick 2']);
      // What its message handler stored (outside any request) is in its storage.
      const last = (await (await fetch(`${base}/last`)).json()) as string;
      expect(last).toMatch(/^tick \d+$/);
      expect(Number(last.split(' ')[1])).toBeGreaterThanOrEqual(4);
    });
  });
}
