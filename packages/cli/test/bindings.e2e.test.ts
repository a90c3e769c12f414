// Cloudflare Python Workers that use bindings, each under `pyworkers dev --port 0` as a user
// runs it: KV, D1 (filled by `pyworkers d1 execute --local --file`), static assets and a cron
// trigger, with the assertions Cloudflare's own examples
// are tested with, and a Durable Object chatroom over WebSockets (15-chatroom). The projects are written here in the same shape (wrangler.jsonc, src/, no
// [tool.pyworkers]).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type CliProcess, runCli, startCli } from './helpers/run-cli.js';

const T = 240_000;
const root = mkdtempSync(join(tmpdir(), 'pyw-cli-bindings-'));
const running: CliProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

async function waitUntil(ok: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function project(name: string, files: Record<string, string | Uint8Array>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const wrangler = (name: string, main: string, extra: string): string => `{
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "${name}",
  "main": "${main}",
  "compatibility_date": "2025-11-02",
  "compatibility_flags": ["python_workers"],
  ${extra},
  "observability": { "enabled": true }
}
`;

async function dev(dir: string): Promise<{ url: string; proc: CliProcess }> {
  const proc = startCli(['dev', '--port', '0', '--no-watch'], { cwd: dir });
  running.push(proc);
  const { url } = await proc.ready;
  return { url, proc };
}

const CHATROOM = `import json
from datetime import UTC, datetime
from urllib.parse import urlparse

from js import WebSocketPair
from workers import DurableObject, Response, WorkerEntrypoint


class Chatroom(DurableObject):
    def __init__(self, state, env):
        super().__init__(state, env)
        self.state = state
        self.message_history = []

    async def fetch(self, request):
        upgrade_header = request.headers.get("Upgrade")
        if not upgrade_header or upgrade_header.lower() != "websocket":
            return Response("Expected WebSocket upgrade", status=400)
        client, server = WebSocketPair.new().object_values()
        self.state.acceptWebSocket(server)
        if self.message_history:
            server.send(json.dumps({"type": "history", "messages": self.message_history}))
        server.send(json.dumps({"type": "system", "text": "Connected to chatroom"}))
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        data = json.loads(message)
        msg = {
            "type": "message",
            "username": data.get("username", "Anonymous"),
            "text": data.get("text", ""),
            "timestamp": datetime.now(UTC).isoformat(),
        }
        self.message_history.append(msg)
        for other in self.state.getWebSockets():
            other.send(json.dumps(msg))

    async def webSocketClose(self, ws, code, reason, wasClean):
        ws.close(code, reason)
        print(f"Client disconnected. Active sessions: {len(self.state.getWebSockets())}")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        pathname = urlparse(request.url).path
        if pathname.startswith("/room/"):
            namespace = self.env.CHATROOM
            stub = namespace.get(namespace.idFromName(pathname[6:]))
            return await stub.fetch(request)
        return Response("Not found. Use /room/<name> to connect to a chatroom.", status=404)
`;

/** A client of the chatroom: its messages (parsed) as they arrive. */
function joinRoom(url: string): Promise<{ ws: WebSocket; got: { type: string; text?: string }[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got: { type: string; text?: string }[] = [];
    ws.on('message', (data) => got.push(JSON.parse(data.toString())));
    ws.on('open', () => resolve({ ws, got }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('Cloudflare workers with bindings under pyworkers dev', () => {
  it(
    'KV: put then get in one request (02-binding)',
    async () => {
      const dir = project('kv', {
        'wrangler.jsonc': wrangler(
          'kv-example',
          'src/entry.py',
          '"kv_namespaces": [{ "binding": "FOO", "id": "<YOUR_KV_NAMESPACE_ID>" }]',
        ),
        'src/entry.py':
          'from workers import Response, WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n        await self.env.FOO.put("bar", "baz")\n        bar = await self.env.FOO.get("bar")\n        return Response(bar)\n',
      });
      const { url, proc } = await dev(dir);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('baz');
      expect(res.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
      expect(proc.stderr()).not.toContain('warning');
      await proc.stop();
    },
    T,
  );

  it(
    'D1: a database filled with `pyworkers d1 execute --local --file` (04-query-d1)',
    async () => {
      const dir = project('d1', {
        'wrangler.jsonc': wrangler(
          'd1-example',
          'src/entry.py',
          `"d1_databases": [
    {
      "binding": "DB", // env.DB
      "database_name": "quotes",
      "database_id": "00000000-0000-0000-0000-000000000000"
    }
  ]`,
        ),
        // As Cloudflare's example writes it: string values in double quotes.
        'db_init.sql': `CREATE TABLE IF NOT EXISTS qtable (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quote TEXT,
    author Text
);

INSERT INTO qtable (quote, author)
SELECT * FROM (
    VALUES
        ("A quote", "Ada Lovelace"),
        ("Another quote", "Grace Hopper")
) WHERE NOT EXISTS (SELECT 1 FROM qtable);
`,
        'src/entry.py':
          'from workers import Response, WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n        query = """\n        SELECT quote, author\n        FROM qtable\n        ORDER BY RANDOM()\n        LIMIT 1;\n        """\n        results = await self.env.DB.prepare(query).all()\n        data = results.results[0]\n        return Response.json(data)\n',
      });
      const init = await runCli(['d1', 'execute', 'quotes', '--local', '--file', 'db_init.sql'], {
        cwd: dir,
      });
      expect(init.code, init.stderr).toBe(0);
      const { url, proc } = await dev(dir);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { quote: string; author: string };
      expect(['Ada Lovelace', 'Grace Hopper']).toContain(body.author);
      expect(Object.keys(body)).toEqual(['quote', 'author']);
      await proc.stop();
    },
    T,
  );

  it(
    'assets: answered with Cloudflare content types, ASSETS.fetch behind them (06-assets)',
    async () => {
      const dir = project('assets', {
        'wrangler.jsonc': wrangler(
          'assets-example',
          'src/worker.py',
          '"assets": { "directory": "./assets/", "binding": "ASSETS" }',
        ),
        'src/worker.py':
          'from workers import WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n        return await self.env.ASSETS.fetch(request)\n',
        'assets/index.html': '<!doctype html><title>assets</title><h1>hi</h1>\n',
        'assets/image.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
        'assets/style.css': 'h1 { color: teal }\n',
        'assets/script.js': 'console.log("hi");\n',
        'assets/favicon.ico': new Uint8Array([0, 0, 1, 0, 1, 0]),
        'assets/painting.jpg': new Uint8Array([0xff, 0xd8, 0xff, 0xe0]),
      });
      const { url, proc } = await dev(dir);
      const pairs: [string, string][] = [
        ['', 'text/html; charset=utf-8'],
        ['image.svg', 'image/svg+xml'],
        ['style.css', 'text/css; charset=utf-8'],
        ['script.js', 'text/javascript; charset=utf-8'],
        ['favicon.ico', 'image/vnd.microsoft.icon'],
        ['painting.jpg', 'image/jpeg'],
      ];
      for (const [path, contentType] of pairs) {
        const res = await fetch(`${url}/${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type'), path).toBe(contentType);
      }
      // A miss runs the worker, whose ASSETS.fetch answers 404.
      expect((await fetch(`${url}/missing.txt`)).status).toBe(404);
      await proc.stop();
    },
    T,
  );

  it(
    'cron: fetch answers, and the dev endpoint runs scheduled with its print in the log (08-cron)',
    async () => {
      const dir = project('cron', {
        'wrangler.jsonc': wrangler(
          'cron-example',
          'src/entry.py',
          `"triggers": {
    "crons": [
      "*/1 * * * *" // every minute
    ]
  }`,
        ),
        'src/entry.py':
          'from workers import Response, WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n    async def scheduled(self, controller, env, ctx):\n        print(f"Scheduled task has been executed ({controller.cron}).")\n\n    async def fetch(self):\n        return Response("Hello from Cron Worker - check the log")\n',
      });
      const { url, proc } = await dev(dir);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Hello from Cron Worker');
      expect(res.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
      const run = await fetch(`${url}/__scheduled?cron=*+*+*+*+*`);
      expect(run.status).toBe(200);
      expect(await run.text()).toBe('Ran scheduled event');
      const until = Date.now() + 30_000;
      while (!proc.stderr().includes('Scheduled task has been executed (* * * * *).')) {
        if (Date.now() > until) throw new Error(`no print in the log:\n${proc.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await proc.stop();
    },
    T,
  );

  it(
    'service binding: a client calls an RPC server served beside it (13-js-api-pygments shape)',
    async () => {
      // The server has example 13's Python shape (Default with fetch and highlight_code);
      // pygments itself needs an index, so this one answers without it.
      const server = project('rpc-server', {
        'wrangler.jsonc': wrangler('py-rpc-server', 'src/entry.py', '"vars": {}'),
        'src/entry.py':
          'from workers import Request, Response, WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request: Request):\n        return Response("Python RPC server is running. Use RPC to call methods.")\n\n    async def highlight_code(self, code: str, language: str = None) -> dict:\n        return {"html": f"<pre>{code}</pre>", "css": "", "language": language.title()}\n',
      });
      const client = project('rpc-client', {
        'wrangler.jsonc': wrangler(
          'rpc-client',
          'src/entry.py',
          '"services": [{ "binding": "PYTHON_RPC", "service": "py-rpc-server" }]',
        ),
        'src/entry.py':
          'import json\nfrom workers import Response, WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n        result = await self.env.PYTHON_RPC.highlight_code("print(\'hi\')", "python")\n        page = await self.env.PYTHON_RPC.fetch("https://py-rpc-server/")\n        return Response(json.dumps([type(result).__name__, result, await page.text()]))\n',
      });
      // Served alone, the client's binding names a worker that is not there: the start fails.
      const alone = await runCli(['serve', '--port', '0'], { cwd: client });
      expect(alone.code).not.toBe(0);
      expect(alone.stderr).toContain(
        'worker "rpc-client": service binding PYTHON_RPC calls worker "py-rpc-server", which is not served here',
      );
      const proc = startCli(['dev', '.', server, '--port', '0', '--no-watch'], { cwd: client });
      running.push(proc);
      const { url } = await proc.ready;
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([
        'JsDict',
        { html: "<pre>print('hi')</pre>", css: '', language: 'Python' },
        'Python RPC server is running. Use RPC to call methods.',
      ]);
      await proc.stop();
    },
    T,
  );

  it(
    'Durable Object WebSockets: a chatroom two clients talk in, history for the next (15-chatroom)',
    async () => {
      const dir = project('chatroom', {
        'wrangler.jsonc': wrangler(
          'python-chatroom',
          'src/entry.py',
          `"durable_objects": { "bindings": [{ "name": "CHATROOM", "class_name": "Chatroom" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Chatroom"] }]`,
        ),
        'src/entry.py': CHATROOM,
      });
      const { url } = await dev(dir);
      const room = `${url.replace('http', 'ws').replace(/\/$/, '')}/room/lobby`;
      // Before dev relayed upgrades, the handshake was answered as a plain 101 (no socket).
      const ann = await joinRoom(room);
      const bob = await joinRoom(room);
      ann.ws.send(JSON.stringify({ username: 'ann', text: 'hello room' }));
      await waitUntil(() => bob.got.some((m) => m.text === 'hello room'));
      expect(ann.got.map((m) => m.type)).toEqual(['system', 'message']);
      const cat = await joinRoom(room);
      await waitUntil(() => cat.got.length >= 2);
      expect(cat.got[0]).toMatchObject({ type: 'history', messages: [{ username: 'ann' }] });
      for (const c of [ann, bob, cat]) c.ws.close(1000);
    },
    T,
  );
});
