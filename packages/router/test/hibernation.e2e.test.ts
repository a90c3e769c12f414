// Durable Object WebSockets with the hibernation API, through a real router, real `ws` clients
// and real isolates in two host processes: a chat room object accepts sockets from its
// `fetch` (reached through `stub.fetch(request)` from the worker's own fetch), broadcasts with
// `getWebSockets()`, finds sockets by tag, has the host answer "ping" without waking it, is
// evicted while its sockets stay open and comes back (constructor again, then
// webSocketMessage) with each socket's attachment, and sees the close codes both ways.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRouter, type Router } from '../src/index.js';
import { memoryLogger, waitFor } from './fixtures.js';
import { openSocket, type TestSocket } from './helpers/test-socket.js';

const app = `
import json
from js import WebSocketPair, WebSocketRequestResponsePair
from pyodide.ffi import create_proxy
from workers import DurableObject, Response, WorkerEntrypoint


class Room(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.ctx.block_concurrency_while(self.boot)
        self.ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    async def boot(self):
        self.boots = (await self.ctx.storage.get("boots") or 0) + 1
        await self.ctx.storage.put("boots", self.boots)
        # Sockets this instance starts with (open before it was evicted).
        self.found = sorted(ws.deserializeAttachment()["name"] for ws in self.ctx.getWebSockets())

    async def fetch(self, request):
        if "/accept" in request.url:
            # The non-hibernating API: the object's listeners get the messages.
            client, server = WebSocketPair.new().object_values()
            server.accept()

            def on_message(event):
                server.send(f"echo {event.data} from boot {self.boots}")

            server.addEventListener("message", create_proxy(on_message))
            return Response(None, status=101, web_socket=client)
        if "/unaccepted" in request.url:
            client, server = WebSocketPair.new().object_values()
            return Response(None, status=101, web_socket=client)
        name = request.url.rsplit("name=", 1)[1]
        client, server = WebSocketPair.new().object_values()
        self.ctx.acceptWebSocket(server, ["user:" + name, "room"])
        server.serializeAttachment({"name": name, "n": len(name)})
        server.send(json.dumps({"welcome": name, "online": len(self.ctx.getWebSockets())}))
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if isinstance(message, bytes):
            ws.send(message[::-1])
            return
        me = ws.deserializeAttachment()["name"]
        if message == "who":
            stamp = self.ctx.getWebSocketAutoResponseTimestamp(ws)
            ws.send(json.dumps({"me": me, "boots": self.boots, "found": self.found,
                                "tags": self.ctx.getTags(ws), "pinged": stamp is not None}))
        elif message.startswith("to:"):
            _, to, text = message.split(":", 2)
            for other in self.ctx.getWebSockets("user:" + to):
                other.send(json.dumps({"dm": text, "from": me}))
        elif message == "big":
            try:
                ws.serializeAttachment({"name": me, "blob": "x" * 20_000})
                ws.send(json.dumps({"kept": True}))
            except ValueError as exc:
                ws.send(json.dumps({"refused": str(exc), "still": ws.deserializeAttachment()}))
        elif message == "bye":
            ws.close(4000, "bye " + me)
        else:
            for other in self.ctx.get_websockets("room"):
                other.send(json.dumps({"from": me, "text": message}))

    async def webSocketClose(self, ws, code, reason, was_clean):
        closes = await self.ctx.storage.get("closes") or []
        closes.append([ws.deserializeAttachment()["name"], code, reason, was_clean])
        await self.ctx.storage.put("closes", closes)
        for other in self.ctx.getWebSockets():
            other.send(json.dumps({"left": ws.deserializeAttachment()["name"], "code": code}))

    async def closed(self):
        return [await self.ctx.storage.get("closes") or [], len(self.ctx.getWebSockets())]


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        room = self.env.ROOM.get_by_name("lobby")
        if request.headers.get("upgrade") == "websocket":
            try:
                return await room.fetch(request)
            except Exception as exc:
                return Response(f"{type(exc).__name__}: {exc}", status=500)
        return Response(json.dumps(await room.closed()))
`;

type Client = TestSocket & { json(): Promise<Record<string, unknown>> };

async function connect(url: string): Promise<Client> {
  const socket = await openSocket(url);
  return { ...socket, json: async () => JSON.parse(String(await socket.next())) };
}

let bundle: Bundle;
const IDLE_MS = 400;
const routers: Router[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  bundle = decodeBundle(
    await buildBundle({
      name: 'chat',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(app)]]),
      vars: {},
      bindings: {
        bindings: [{ type: 'durable_object_namespace', name: 'ROOM', className: 'Room' }],
        durableObjects: { classes: ['Room'], migrations: [{ tag: 'v1', new_classes: ['Room'] }] },
      },
    }),
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A router on its own state, with objects evicted after IDLE_MS. */
async function serve(hostKind: 'process' | 'local'): Promise<string> {
  const stateDir = mkdtempSync(join(tmpdir(), 'pyw-hibernation-'));
  dirs.push(stateDir);
  const idle = process.env.PYWORKERS_DO_IDLE_MS;
  process.env.PYWORKERS_DO_IDLE_MS = String(IDLE_MS);
  let router: Router;
  try {
    router = createRouter({
      hostKind,
      hosts: 2,
      logger: memoryLogger(),
      eventSources: false,
      workers: [
        {
          name: 'chat',
          routes: [{ pathPrefix: '/' }],
          bundle: async () => bundle,
          state: { stateDir, projectDir: stateDir },
        },
      ],
    });
  } finally {
    if (idle === undefined) delete process.env.PYWORKERS_DO_IDLE_MS;
    else process.env.PYWORKERS_DO_IDLE_MS = idle;
  }
  routers.push(router);
  const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
  return `127.0.0.1:${port}`;
}

for (const hostKind of ['process', 'local'] as const) {
  describe(`Durable Object WebSockets (hibernation API, two ${hostKind} hosts)`, () => {
    let ann: Client;
    let bob: Client;
    let base: string;
    beforeAll(async () => {
      base = await serve(hostKind);
    }, 300_000);

    it('accepts sockets through stub.fetch and broadcasts to them with getWebSockets', async () => {
      ann = await connect(`ws://${base}/room?name=ann`);
      expect(await ann.json()).toEqual({ welcome: 'ann', online: 1 });
      bob = await connect(`ws://${base}/room?name=bob`);
      expect(await bob.json()).toEqual({ welcome: 'bob', online: 2 });
      ann.ws.send('hello');
      expect(await ann.json()).toEqual({ from: 'ann', text: 'hello' });
      expect(await bob.json()).toEqual({ from: 'ann', text: 'hello' });
      // Binary frames arrive as bytes.
      bob.ws.send(Buffer.from([1, 2, 3]));
      expect([...((await bob.next()) as Buffer)]).toEqual([3, 2, 1]);
    });

    it('finds sockets by tag', async () => {
      ann.ws.send('to:bob:psst');
      expect(await bob.json()).toEqual({ dm: 'psst', from: 'ann' });
      ann.ws.send('who');
      const who = await ann.json();
      expect(who.tags).toEqual(['user:ann', 'room']);
      expect(who.boots).toBe(1);
    });

    it('refuses an attachment over the size limit, keeping the one it had', async () => {
      ann.ws.send('big');
      const answer = await ann.json();
      expect(answer.refused).toMatch(
        /^serializeAttachment\(\): the value is 200\d\d bytes serialized, more than the limit of 16384; /,
      );
      expect(answer.still).toEqual({ name: 'ann', n: 3 });
    });

    it('answers the auto-response in the host, then wakes the evicted object with its sockets and attachments', async () => {
      // Idle past PYWORKERS_DO_IDLE_MS: the host evicts the instance; the sockets stay open.
      await new Promise((r) => setTimeout(r, IDLE_MS * 3));
      for (let i = 0; i < 3; i++) {
        bob.ws.send('ping');
        expect(await bob.next()).toBe('pong');
      }
      await new Promise((r) => setTimeout(r, IDLE_MS * 3));
      bob.ws.send('who');
      const who = await bob.json();
      // One new instance (its constructor ran again), made by 'who', not by the pings, and it
      // started with both open sockets and their attachments.
      expect(who).toMatchObject({ me: 'bob', boots: 2, found: ['ann', 'bob'], pinged: true });
      expect(who.tags).toEqual(['user:bob', 'room']);
      ann.ws.send('after');
      expect(await ann.json()).toEqual({ from: 'ann', text: 'after' });
      expect(await bob.json()).toEqual({ from: 'ann', text: 'after' });
    });

    it("sees the close codes both ways, and the client's answer to its own close", async () => {
      bob.ws.send('bye');
      expect(await bob.closed).toEqual({ code: 4000, reason: 'bye bob' });
      // The object closed bob's socket: bob's answering close frame is its webSocketClose.
      expect(await ann.json()).toEqual({ left: 'bob', code: 4000 });
      ann.ws.close(4001, 'done');
      expect(await ann.closed).toEqual({ code: 4001, reason: 'done' });
      let closed: [unknown[], number] = [[], -1];
      await waitFor(async () => {
        const res = await fetch(`http://${base}/closed`);
        closed = (await res.json()) as [unknown[], number];
        return closed[0].length >= 2 && closed[1] === 0;
      }, 20_000);
      expect(closed).toEqual([
        [
          ['bob', 4000, 'bye bob', true],
          ['ann', 4001, 'done', true],
        ],
        0,
      ]);
    });

    it('serves a socket the object accepted with server.accept(), keeping the object live meanwhile', async () => {
      const eve = await connect(`ws://${base}/accept`);
      eve.ws.send('a');
      const first = String(await eve.next());
      expect(first).toMatch(/^echo a from boot \d+$/);
      await new Promise((r) => setTimeout(r, IDLE_MS * 3)); // not evicted: its listener is live
      eve.ws.send('b');
      expect(String(await eve.next())).toBe(first.replace('echo a', 'echo b'));
      eve.ws.close(1000);
      await eve.closed;
    });

    it('refuses, with what to do, a socket the object did not accept', async () => {
      const ws = new WebSocket(`ws://${base}/unaccepted`);
      const answer = await new Promise<{ status: number; body: string }>((resolve) => {
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
      expect(answer.status).toBe(500);
      expect(answer.body).toMatch(
        /TypeError: .*self\.ctx\.acceptWebSocket\(server\).*server\.accept\(\)/,
      );
    });

    it('tells the room when a client goes away without a close frame (1006)', async () => {
      const cat = await connect(`ws://${base}/room?name=cat`);
      expect(await cat.json()).toEqual({ welcome: 'cat', online: 1 });
      const dan = await connect(`ws://${base}/room?name=dan`);
      await dan.json();
      dan.ws.terminate();
      // cat hears that dan left abnormally.
      for (;;) {
        const m = await cat.json();
        if (m.left === 'dan') {
          expect(m.code).toBe(1006);
          break;
        }
      }
      cat.ws.close();
      await cat.closed;
    });
  });
}
