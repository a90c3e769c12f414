// Durable Objects through a real router, real isolates in two host processes and real SQLite
// files: one live instance per id wherever its callers run, no lost update under concurrent
// increments, transactions that roll back, alarms that survive a restart, storage that
// survives kill -9 of its host process, and storage no other object, worker or open() reaches.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { memoryLogger, waitFor } from './fixtures.js';

const app = `
import json
import random
import time
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.instance = random.random()
        self.ctx.block_concurrency_while(self.boot)

    async def boot(self):
        import asyncio

        # A timer inside block_concurrency_while: the events held back keep waiting (the
        # input gate stays shut for them), and none of them deadlocks with it.
        await asyncio.sleep(0.01)
        self.boots = (await self.ctx.storage.get("boots") or 0) + 1
        await self.ctx.storage.put("boots", self.boots)

    async def increment(self):
        n = await self.ctx.storage.get("n") or 0
        await self.ctx.storage.put("n", n + 1)
        return n + 1

    async def whoami(self):
        return [self.instance, str(self.ctx.id), self.ctx.id.name, self.boots]

    async def kv(self):
        s = self.ctx.storage
        await s.put("a", {"x": [1, 2, None], "b": b"\\x00"})
        await s.put({"k1": 1, "k2": "two", "k3": 3.5})
        got = await s.get("a")
        many = await s.get(["k1", "k3", "nope"])
        listed = await s.list(prefix="k", reverse=True, limit=2)
        after = await s.list(start_after="k1", end="k3")
        deleted = await s.delete("k1")
        gone = await s.delete(["k2", "nope"])
        s.put("late", "unawaited")  # started anyway, committed before the answer
        return [got["x"], got["b"].hex(), type(got).__name__, many, list(listed), list(after),
                deleted, gone]

    async def peek(self, key):
        return await self.ctx.storage.get(key)

    async def sql(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT)")
        w = sql.exec("INSERT INTO t (name) VALUES (?), (?)", "a", "b")
        cur = sql.exec("SELECT id, name FROM t ORDER BY id")
        rows = cur.to_array()
        one = sql.exec("SELECT count(*) AS n FROM t").one()
        raw = list(sql.exec("SELECT name FROM t").raw())
        return [rows, one["n"], raw, cur.column_names, w.rows_written, sql.database_size > 0]

    async def txn(self):
        await self.ctx.storage.put("t", "before")
        try:
            async def body(txn):
                await txn.put("t", "inside")
                self.ctx.storage.sql.exec("CREATE TABLE rolled (x)")
                raise ValueError("boom")
            await self.ctx.storage.transaction(body)
        except ValueError:
            pass
        after_raise = await self.ctx.storage.get("t")
        async def rolled(txn):
            await txn.put("t", "rolled")
            txn.rollback()
        await self.ctx.storage.transaction(rolled)
        async def commits(txn):
            await txn.put("t2", "committed")
            return 7
        value = await self.ctx.storage.transaction(commits)
        try:
            self.ctx.storage.sql.exec("SELECT * FROM rolled")
            table = "exists"
        except Exception as exc:
            table = type(exc).__name__
        return [after_raise, await self.ctx.storage.get("t"), value,
                await self.ctx.storage.get("t2"), table]

    async def arm(self, ms):
        await self.ctx.storage.set_alarm(time.time() * 1000 + ms)
        return await self.ctx.storage.get_alarm() is not None

    async def alarm(self, info):
        await self.ctx.storage.put("alarmed", [info.retry_count, info.is_retry])

    async def escape(self, path):
        out = []
        try:
            open(path, "rb").read()
            out.append("opened")
        except OSError as exc:
            out.append(type(exc).__name__)
        try:
            self.ctx.storage.sql.exec(f"ATTACH DATABASE '{path}' AS other")
            out.append("attached")
        except Exception as exc:
            out.append("refused" if "ATTACH" in str(exc) else str(exc))
        return out

    def token(self):
        return self.ctx.storage._token

    async def fetch(self, request):
        return Response(f"object {self.ctx.id.name} saw {request.method} {request.url}",
                        headers={"x-object": "yes"})

    async def fail(self):
        raise KeyError("nope")

    async def shapes(self, big):
        # Plain data crosses back as JSON text; a big int (a JS BigInt) as a JS value.
        return {"n": 1, "f": 1.5, "s": "s", "l": [1, "x", None, True], "d": {"k": {}},
                **({"big": 2**60} if big else {})}

    async def word(self):
        return "plain"

    async def selfcall(self):
        # Through its own stub: the input gate is open while it waits (as on Cloudflare).
        return await self.env.COUNTER.get(self.ctx.id).increment()

    async def pingpong(self, other):
        return await self.env.COUNTER.get_by_name(other).back_to(self.ctx.id.name)

    async def abort_me(self):
        self.ctx.storage.put("dropped", "never committed")
        try:
            self.ctx.abort("testing")
        except Exception:
            return "caught"  # abort() is a BaseException: this does not stop it

    async def nap(self, tag, how):
        # How long it waits: a timer, or an outbound fetch to a slow loopback server. The input
        # gate is open meanwhile (as on Cloudflare), so another call gets in before it wakes.
        self.naps = getattr(self, "naps", [])
        self.naps.append("in " + tag)
        if how.startswith("http"):
            from workers import fetch

            await (await fetch(how)).text()
        else:
            import asyncio

            await asyncio.sleep(int(how) / 1000)
        self.naps.append("out " + tag)
        return self.naps

    async def back_to(self, name):
        return ["back", (await self.env.COUNTER.get_by_name(name).whoami())[2]]


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        parts = request.url.split("/", 3)[3].split("/")
        ns = self.env.COUNTER
        what, name = parts[0], parts[1] if len(parts) > 1 else "x"
        stub = ns.get_by_name(name)
        if what == "inc":
            return Response(json.dumps(await stub.increment()))
        if what == "incmany":
            import asyncio

            calls = [stub.increment() for _ in range(int(parts[2]))]
            return Response(json.dumps(await asyncio.gather(*calls)))
        if what == "naps":
            import asyncio
            from urllib.parse import unquote

            how = unquote(parts[2])

            async def later(call):
                # b arrives while a reads its body (fetch() returned at once: see the test).
                await asyncio.sleep(1 if how.endswith("/body") else 0)
                return await call()

            done = await asyncio.gather(stub.nap("a", how), later(lambda: stub.nap("b", how)))
            return Response(json.dumps(max(done, key=len)))
        if what == "who":
            return Response(json.dumps(await stub.whoami()))
        if what == "peek":
            return Response(json.dumps(await stub.peek(parts[2])))
        if what == "fetch":
            res = await stub.fetch("https://object/" + name, method="POST", body="hi")
            return Response(json.dumps([res.status, res.headers.get("x-object"), await res.text()]))
        if what == "ids":
            a = ns.id_from_name(name)
            u = ns.new_unique_id()
            back = ns.idFromString(str(u))
            try:
                ns.id_from_string("00" * 32)
                bad = "accepted"
            except Exception as exc:
                bad = type(exc).__name__
            return Response(json.dumps([str(a) == a.toString(), len(str(u)), back == u,
                                        a.name, stub.id == a, bad]))
        if what == "abort":
            try:
                await stub.abort_me()
            except Exception as exc:
                return Response(json.dumps(str(exc)))
        if what == "shapes":
            out = []
            for big in (False, True):
                r = await stub.shapes(big)
                out.append([type(r).__name__, type(r.d.k).__name__, r.l, type(r.n).__name__,
                            type(r.f).__name__, r.s, r.get("big")])
            word = await stub.word()
            return Response(json.dumps([out, type(word).__name__, word]))
        if what == "fail":
            try:
                await stub.fail()
            except KeyError as exc:
                return Response("raised KeyError: " + str(exc))
        method = getattr(stub, what)
        from urllib.parse import unquote

        args = [int(a) if a.isdigit() else unquote(a) for a in parts[2:]]
        return Response(json.dumps(await method(*args)))
`;

const other = `
import json
from workers import WorkerEntrypoint, Response


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        token = request.url.split("/", 5)[5]
        from workers import _bindings
        try:
            await _bindings.call("__pyworkers_do__", "get", token, "n")
            return Response("reached")
        except Exception as exc:
            return Response("refused: " + str(exc))
`;

async function bundleOf(name: string, source: string, objects: boolean): Promise<Bundle> {
  const bytes = await buildBundle({
    name,
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(source)]]),
    vars: {},
    bindings: objects
      ? {
          bindings: [{ type: 'durable_object_namespace', name: 'COUNTER', className: 'Counter' }],
          durableObjects: {
            classes: ['Counter'],
            migrations: [{ tag: 'v1', new_sqlite_classes: ['Counter'] }],
          },
        }
      : { bindings: [{ type: 'kv', name: 'KV', id: 'kv' }] },
  });
  return decodeBundle(bytes);
}

let appBundle: Bundle;
let otherBundle: Bundle;
let stateDir: string;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'pyw-objects-'));
  [appBundle, otherBundle] = await Promise.all([
    bundleOf('app', app, true),
    bundleOf('other', other, false),
  ]);
}, 300_000);
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function start(): Router {
  const state = { stateDir, projectDir: stateDir };
  return createRouter({
    hostKind: 'process',
    hosts: 2,
    // Few requests per isolate, so that a burst spreads over both host processes.
    concurrency: 4,
    logger: memoryLogger(),
    eventSources: false,
    workers: [
      { name: 'app', routes: [{ pathPrefix: '/' }], bundle: async () => appBundle, state },
      {
        name: 'other',
        routes: [{ pathPrefix: '/other' }],
        bundle: async () => otherBundle,
        state,
      },
    ],
  });
}

describe('Durable Objects (two host processes)', () => {
  let router: Router;
  let base: string;
  const listen = async (): Promise<void> => {
    router = start();
    const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${port}`;
  };
  beforeAll(listen, 300_000);
  afterAll(async () => {
    await router?.close();
  });
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${base}/${path}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return JSON.parse(text);
  };
  const text = async (path: string): Promise<string> => {
    const res = await fetch(`${base}/${path}`);
    return res.text();
  };

  it('keeps one instance per id while both host processes take its requests at once', async () => {
    const seen = (await Promise.all(Array.from({ length: 24 }, () => get('who/solo')))) as [
      number,
      string,
      string,
      number,
    ][];
    expect(new Set(seen.map((s) => s[0])).size).toBe(1);
    expect(seen[0]![1]).toMatch(/^[0-9a-f]{64}$/);
    expect(seen[0]![2]).toBe('solo');
    // Both host processes ran the worker's front requests, and sent them to the one instance.
    const { hosts } = await router.status();
    const running = hosts.filter((h) => h.workers.some((w) => w.worker === 'app' && w.isolates));
    expect(running.length).toBe(2);
  }, 120_000);

  it('loses no update under 100 concurrent increments of one counter', async () => {
    // 4 front requests (over both host processes) with 25 concurrent RPCs each.
    const got = (await Promise.all(Array.from({ length: 4 }, () => get('incmany/hundred/25'))))
      .flat()
      .map(Number);
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await get('peek/hundred/n')).toBe(100);
  }, 180_000);

  it('lets an object call itself through its stub, and A call B call A, without waiting for itself', async () => {
    // Before the input gate opened for outgoing calls, both waited for the request timeout
    // and failed.
    expect(await get('selfcall/loop')).toBe(1);
    expect(await get('selfcall/loop')).toBe(2);
    expect(await get('pingpong/ping/pong')).toEqual(['back', 'ping']);
  }, 60_000);

  it('opens the input gate while an event sleeps, fetches or reads a fetched body, as Cloudflare does', async () => {
    // /body: the headers and a first byte at once (fetch() returns), the rest once the second
    // call's request is in too (3 s at most): the first call's text() waits for the second call
    // to get in. Any other path answers whole after 300 ms.
    let held: ServerResponse | undefined;
    const slow = createServer((req, res) => {
      if (req.url !== '/body') {
        setTimeout(() => res.end('slow'), 300);
        return;
      }
      res.write('s');
      if (held) {
        const first = held;
        held = undefined;
        setTimeout(() => {
          if (!first.writableEnded) first.end('low');
          res.end('low');
        }, 100);
      } else {
        held = res;
        setTimeout(() => {
          if (held === res) held = undefined;
          if (!res.writableEnded) res.end('low');
        }, 3000);
      }
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
      for (const [name, how] of [
        ['napper', '300'],
        ['fetcher', encodeURIComponent(url)],
        ['reader', encodeURIComponent(`${url}body`)],
      ]) {
        const naps = (await get(`naps/${name}/${how}`)) as string[];
        // Both calls were in before either finished (before: "in a", "out a", "in b", ...).
        expect(naps.slice(0, 2).sort()).toEqual(['in a', 'in b']);
        expect(naps.slice(2).sort()).toEqual(['out a', 'out b']);
      }
    } finally {
      slow.close();
    }
  }, 60_000);

  it('resets an object that calls ctx.abort(): the call fails, its writes are dropped, a new instance follows', async () => {
    const [, , , boots] = (await get('who/aborts')) as number[];
    expect(await get('abort/aborts')).toMatch(/reset by ctx\.abort\(\): testing/);
    expect(await get('peek/aborts/dropped')).toBeNull();
    expect(((await get('who/aborts')) as number[])[3]).toBe(boots! + 1);
  }, 60_000);

  it('gives ids, a stub fetch, and raises a remote exception as itself', async () => {
    expect(await get('ids/room-1')).toEqual([true, 64, true, 'room-1', true, 'BindingError']);
    expect(await get('fetch/room-1')).toEqual([
      200,
      'yes',
      'object room-1 saw POST https://object/room-1',
    ]);
    expect(await text('fail/f')).toMatch(/^raised KeyError/);
  }, 60_000);

  it('gives an RPC result as Python values: JsDict with attribute access, list, int, float, str', async () => {
    const plain = ['JsDict', 'JsDict', [1, 'x', null, true], 'int', 'float', 's'];
    expect(await get('shapes/shapes')).toEqual([
      [
        [...plain, null],
        [...plain, 2 ** 60],
      ],
      'str',
      'plain',
    ]);
  }, 60_000);

  it('stores Python values, lists in order, and commits unawaited writes before answering', async () => {
    const [x, b, kind, many, listed, after, deleted, gone] = (await get('kv/kv')) as unknown[];
    expect([x, b, kind]).toEqual([[1, 2, null], '00', 'JsDict']);
    expect(many).toEqual({ k1: 1, k3: 3.5 });
    expect(listed).toEqual(['k3', 'k2']);
    expect(after).toEqual(['k2']);
    expect([deleted, gone]).toEqual([true, 1]);
    expect(await get('peek/kv/late')).toBe('unawaited');
  }, 60_000);

  it('runs sql.exec with a cursor: to_array, one, raw, column names, rows written, size', async () => {
    expect(await get('sql/sql')).toEqual([
      [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
      2,
      [['a'], ['b']],
      ['id', 'name'],
      2,
      true,
    ]);
  }, 60_000);

  it('rolls back a transaction that raises or calls rollback(), commits one that returns', async () => {
    expect(await get('txn/txn')).toEqual(['before', 'before', 7, 'committed', 'BindingError']);
  }, 60_000);

  it("keeps an object's storage from other objects, other workers and open()", async () => {
    await get('inc/private');
    expect(await get('peek/someone-else/n')).toBe(null);
    const path = join(stateDir, 'v1', 'do', 'app', 'Counter');
    expect(await get(`escape/private/${encodeURIComponent(path)}`)).toEqual([
      'FileNotFoundError',
      'refused',
    ]);
    const token = (await get('token/private')) as string;
    expect(await text(`other/steal/${token}`)).toMatch(/refused: .*not live/);
  }, 60_000);

  it('fires an alarm set before a restart after it, and keeps storage across kill -9', async () => {
    expect(await get('inc/durable')).toBe(1);
    // kill -9 both host processes right after the write was answered: it is in the WAL.
    for (const h of (await router.status()).hosts) process.kill(h.pid, 'SIGKILL');
    await waitFor(async () => {
      const res = await fetch(`${base}/peek/durable/n`).catch(() => undefined);
      return res?.status === 200 && (await res.text()) === '1';
    });
    expect(await get('arm/alarmed/1500')).toBe(true);
    await router.close();
    await listen();
    await waitFor(async () => JSON.stringify(await get('peek/alarmed/alarmed')) === '[0,false]');
    // The instance came back (a new one, booted once more) with its storage.
    const [, , , boots] = (await get('who/durable')) as number[];
    expect(boots).toBeGreaterThanOrEqual(2);
    expect(await get('peek/durable/n')).toBe(1);
  }, 240_000);
});

it('fails the build when the config names a class the module does not define', async () => {
  const build = buildBundle({
    name: 'missing',
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(app)]]),
    vars: {},
    bindings: {
      bindings: [{ type: 'durable_object_namespace', name: 'ROOMS', className: 'Room' }],
      durableObjects: { classes: ['Room'], migrations: [] },
    },
  });
  await expect(build).rejects.toThrow(
    /names Durable Object class 'Room'.*entry\.py defines no class Room/,
  );
}, 120_000);

describe('Durable Objects (in-process host, short idle time)', () => {
  let router: Router;
  let base: string;
  beforeAll(async () => {
    process.env.PYWORKERS_DO_IDLE_MS = '300';
    try {
      router = createRouter({
        hostKind: 'local',
        hosts: 1,
        logger: memoryLogger(),
        eventSources: false,
        workers: [
          {
            name: 'app',
            routes: [{ pathPrefix: '/' }],
            bundle: async () => appBundle,
            state: { stateDir, projectDir: stateDir },
          },
        ],
      });
    } finally {
      delete process.env.PYWORKERS_DO_IDLE_MS;
    }
    const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${port}`;
  }, 300_000);
  afterAll(async () => {
    await router?.close();
  });

  it('evicts an idle object; its next event makes a new instance with the same storage', async () => {
    const who = async () => (await (await fetch(`${base}/who/idle`)).json()) as number[];
    const [first, , , boots] = await who();
    await (await fetch(`${base}/inc/idle`)).text();
    let wait = 500;
    let again = await who();
    // Each call makes it busy again: wait longer each time until it was idle long enough.
    while (again[0] === first && wait < 30_000) {
      await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
      again = await who();
    }
    expect(again[0]).not.toBe(first);
    expect(again[3]).toBe(boots! + 1);
    expect(await (await fetch(`${base}/peek/idle/n`)).json()).toBe(1);
  }, 120_000);
});
