// A WebSocket through a service binding: a gateway worker answers an upgrade with
// `await self.env.CHAT.fetch(request)`, the chat worker accepts it (ASGI or the JS-style API),
// and the client talks to the chat worker through the gateway's 101, text and binary frames and
// close codes both ways. Real router, real isolates, a real client on 127.0.0.1.
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { waitFor } from './fixtures.js';
import { openSocket as open } from './helpers/test-socket.js';

const chat = `
from urllib.parse import urlsplit

from js import WebSocketPair
from pyodide.ffi import create_proxy, to_js
from workers import Response, WorkerEntrypoint
import asgi

closes = []


async def app(scope, receive, send):
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            closes.append(["asgi", message["code"]])
            return
        if message.get("text") == "close":
            await send({"type": "websocket.close", "code": 4001, "reason": "chat bye"})
            return
        if message.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})
        else:
            await send({"type": "websocket.send", "text": "chat:" + message["text"]})


def js_style():
    client, server = WebSocketPair.new().object_values()
    server.accept()

    def on_message(event):
        server.send("js:" + str(event.data))

    def on_close(event):
        closes.append(["js", event.code])

    server.addEventListener("message", create_proxy(on_message))
    server.addEventListener("close", create_proxy(on_close))
    server.send("hello from chat")
    return Response(None, status=101, web_socket=client)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path.endswith("/asgi"):
            return await asgi.fetch(app, request, self.env)
        if path.endswith("/js"):
            return js_style()
        if path.endswith("/closes"):
            return Response.json(closes)
        return Response("not a websocket here", status=403)
`;

const gateway = `
from workers import WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await self.env.CHAT.fetch(request)
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

let chatBundle: Bundle;
let gatewayBundle: Bundle;
beforeAll(async () => {
  chatBundle = await bundleOf('chat', chat);
  gatewayBundle = await bundleOf('gateway', gateway, [
    { type: 'service', name: 'CHAT', service: 'chat' },
  ]);
}, 300_000);

for (const [hostKind, hosts] of [
  ['local', 1],
  ['process', 1],
  ['process', 2],
] as const) {
  describe(`WebSockets through a service binding (${hostKind} hosts x${hosts})`, () => {
    let router: Router;
    let base: string;
    beforeAll(async () => {
      router = createRouter({
        hostKind,
        hosts,
        eventSources: false,
        workers: [
          { name: 'gateway', routes: [{ pathPrefix: '/' }], bundle: async () => gatewayBundle },
          { name: 'chat', routes: [{ pathPrefix: '/chat' }], bundle: async () => chatBundle },
        ],
      });
      const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
      base = `127.0.0.1:${port}`;
    }, 300_000);
    afterAll(async () => {
      await router?.close();
    });

    it('relays an ASGI chat behind a gateway: text, binary, and the close code', async () => {
      const s = await open(`ws://${base}/room/asgi`);
      s.ws.send('hi');
      expect(await s.next()).toBe('chat:hi');
      s.ws.send(Buffer.from([1, 2, 3]));
      expect([...((await s.next()) as Buffer)]).toEqual([3, 2, 1]);
      s.ws.send('close');
      expect(await s.closed).toEqual({ code: 4001, reason: 'chat bye' });
    });

    it("relays the JS-style API behind a gateway, and the client's close code reaches the chat", async () => {
      const s = await open(`ws://${base}/room/js`);
      expect(await s.next()).toBe('hello from chat');
      s.ws.send('yo');
      expect(await s.next()).toBe('js:yo');
      s.ws.close(4100, 'client bye');
      await s.closed;
      await waitFor(async () => {
        const closes = (await (await fetch(`http://${base}/chat/closes`)).json()) as [
          string,
          number,
        ][];
        return closes.some(([k, c]) => k === 'js' && c === 4100);
      });
    });
  });
}
