// WebSockets through the router (child-process and in-process hosts) to a real isolate: an
// ASGI echo (`asgi.fetch` with a websocket scope) and Cloudflare's JS-style API (WebSocketPair,
// Response(status=101, web_socket=client)), with text and binary frames, close codes both
// ways, a worker that refuses the upgrade, the message size limit, and the credit windows toward
// a worker that reads slowly and toward a client that reads slowly.
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { waitFor } from './fixtures.js';
import { openSocket as open } from './helpers/test-socket.js';

const entry = `
import asyncio
import time
from urllib.parse import urlsplit

from js import WebSocketPair
from pyodide.ffi import create_proxy, to_js
from workers import Response, WorkerEntrypoint
import asgi

closes = []


async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            closes.append(["asgi", message["code"]])
            return
        if message.get("text") == "close":
            await send({"type": "websocket.close", "code": 4001, "reason": "asgi bye"})
            return
        if message.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})
        else:
            await send({"type": "websocket.send", "text": "asgi:" + message["text"]})


async def flood(scope, receive, send):
    # 1,200 binary messages of 64 KiB (75 MiB) to a client that stops reading for a while;
    # a text message from the client ("probe") asks how many had been sent by then.
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    sent = [0]
    at_probe = []

    async def listen():
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            at_probe.append(sent[0])

    listener = asyncio.ensure_future(listen())
    chunk = bytes(64 * 1024)
    for _ in range(1200):
        await send({"type": "websocket.send", "bytes": chunk})
        sent[0] += 1
    await send({"type": "websocket.send", "text": f"done {at_probe[0] if at_probe else -1}"})
    await send({"type": "websocket.close", "code": 1000})
    listener.cancel()


def js_echo():
    client, server = WebSocketPair.new().object_values()
    server.accept()

    def on_message(event):
        data = event.data
        if isinstance(data, str):
            if data == "close":
                server.close(4002, "js bye")
            elif data == "flood":
                # 32 MiB for a client that stopped reading: past the router's bound.
                chunk = to_js(bytes(128 * 1024))
                for _ in range(256):
                    server.send(chunk)
            else:
                server.send("js:" + data)
        else:
            server.send(to_js(data.to_bytes()[::-1]))

    def on_close(event):
        closes.append(["js", event.code])

    server.addEventListener("message", create_proxy(on_message))
    server.addEventListener("close", create_proxy(on_close))
    server.send("hello")
    return Response(None, status=101, web_socket=client)


def slow_counter():
    # Takes 20 ms of the isolate thread per binary message; a text message asks for the count.
    client, server = WebSocketPair.new().object_values()
    server.accept()
    got = [0, 0]

    def on_message(event):
        data = event.data
        if isinstance(data, str):
            server.send(f"{got[0]} {got[1]}")
            return
        end = time.monotonic() + 0.02
        while time.monotonic() < end:
            pass
        got[0] += 1
        got[1] += data.byteLength

    server.addEventListener("message", create_proxy(on_message))
    return Response(None, status=101, web_socket=client)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path == "/asgi":
            return await asgi.fetch(app, request, self.env)
        if path == "/asgi-flood":
            return await asgi.fetch(flood, request, self.env)
        if path == "/js":
            return js_echo()
        if path == "/slow":
            return slow_counter()
        if path == "/closes":
            return Response.json(closes)
        return Response("not a websocket here", status=403)
`;

let bundle: Bundle;
const routers: Router[] = [];

beforeAll(async () => {
  bundle = decodeBundle(
    await buildBundle({
      name: 'sockets',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: {},
    }),
  );
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
});

for (const hostKind of ['process', 'local'] as const) {
  describe(`WebSockets through the router (${hostKind} hosts)`, () => {
    let base: string;
    beforeAll(async () => {
      const router = createRouter({
        hostKind,
        hosts: 1,
        workers: [{ name: 'sockets', routes: [{ pathPrefix: '/' }], bundle: async () => bundle }],
      });
      routers.push(router);
      const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
      base = `127.0.0.1:${port}`;
    });

    it('echoes text and binary frames through ASGI, and the app closes with its code', async () => {
      const s = await open(`ws://${base}/asgi`);
      s.ws.send('hi');
      expect(await s.next()).toBe('asgi:hi');
      s.ws.send(Buffer.from([1, 2, 3]));
      expect([...((await s.next()) as Buffer)]).toEqual([3, 2, 1]);
      s.ws.send('close');
      expect(await s.closed).toEqual({ code: 4001, reason: 'asgi bye' });
    });

    it('echoes through the JS-style API (WebSocketPair), including what it sent before returning', async () => {
      const s = await open(`ws://${base}/js`);
      expect(await s.next()).toBe('hello');
      s.ws.send('hi');
      expect(await s.next()).toBe('js:hi');
      s.ws.send(Buffer.from([9, 8, 7]));
      expect([...((await s.next()) as Buffer)]).toEqual([7, 8, 9]);
      s.ws.send('close');
      expect(await s.closed).toEqual({ code: 4002, reason: 'js bye' });
    });

    it("hands the client's close code to the worker", async () => {
      for (const path of ['asgi', 'js']) {
        const s = await open(`ws://${base}/${path}`);
        if (path === 'js') await s.next();
        s.ws.close(4100 + (path === 'js' ? 1 : 0), 'client bye');
        await s.closed;
      }
      await waitFor(async () => {
        const closes = (await (await fetch(`http://${base}/closes`)).json()) as [string, number][];
        return (
          closes.some(([k, c]) => k === 'asgi' && c === 4100) &&
          closes.some(([k, c]) => k === 'js' && c === 4101)
        );
      });
    });

    it('answers a refused upgrade with the worker status', async () => {
      await expect(open(`ws://${base}/nowhere`)).rejects.toThrow('status 403');
    });

    it('drops a client that stops reading instead of buffering for it without bound', async () => {
      const s = await open(`ws://${base}/js`);
      expect(await s.next()).toBe('hello');
      s.ws.send('flood');
      s.ws.pause(); // reads nothing more: the kernel buffers fill, then the router's
      await waitFor(async () => {
        const closes = (await (await fetch(`http://${base}/closes`)).json()) as [string, number][];
        return closes.some(([k, c]) => k === 'js' && c === 1006);
      });
      s.ws.resume();
      expect((await s.closed).code).toBe(1006);
    });

    it('makes an ASGI app sending to a client that stops reading wait, losing nothing', async () => {
      const s = await open(`ws://${base}/asgi-flood`);
      s.ws.pause(); // reads nothing for 1.5 s: the kernel buffers fill, then the router's window
      await new Promise((r) => setTimeout(r, 1500));
      s.ws.send('probe');
      await new Promise((r) => setTimeout(r, 300));
      s.ws.resume();
      let bytes = 0;
      let messages = 0;
      const cut = s.closed.then(({ code }) => {
        throw new Error(`closed with ${code} after ${messages} messages`);
      });
      for (;;) {
        const m = await Promise.race([s.next(), cut]);
        if (typeof m === 'string') {
          // Without the window the router had buffered it all and cut the client off at its
          // bound (1006); with it, the app was still under half way when the probe came.
          const atProbe = Number(m.split(' ')[1]);
          expect(atProbe).toBeGreaterThanOrEqual(0); // -1: the probe never reached the app
          expect(atProbe).toBeLessThan(600);
          break;
        }
        messages += 1;
        bytes += m.byteLength;
      }
      expect(messages).toBe(1200);
      expect(bytes).toBe(1200 * 64 * 1024);
      expect((await s.closed).code).toBe(1000);
    });

    it('holds a flood for a slow worker in the client socket (credit window), losing nothing', async () => {
      const s = await open(`ws://${base}/slow`);
      const size = 256 * 1024;
      const n = 160; // 40 MiB, ~3.2 s of the worker's time
      try {
        for (let i = 0; i < n; i++) s.ws.send(Buffer.alloc(size, i));
        await new Promise((r) => setTimeout(r, 800));
        // Without the window the router reads it all at once (into the hops' queues) and the
        // client's buffer is empty by now; with it, most of the flood still waits client-side.
        expect(s.ws.bufferedAmount).toBeGreaterThan(16 * 1024 * 1024);
        s.ws.send('count');
        expect(await s.next()).toBe(`${n} ${n * size}`);
        s.ws.close(1000);
        await s.closed;
      } finally {
        s.ws.terminate();
      }
    });

    it('closes with 1009 on a message over the size limit', async () => {
      const s = await open(`ws://${base}/asgi`);
      s.ws.send(Buffer.alloc(2 * 1024 * 1024));
      expect((await s.closed).code).toBe(1009);
    });
  });
}
