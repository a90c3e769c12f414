// Service bindings through a real router and real isolates: one worker calls another's fetch
// and its methods over RPC (values converted both ways, exceptions raised in the caller), with
// the isolates in this process and in host processes.
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../src/index.js';
import { memoryLogger, waitFor } from './fixtures.js';

const server = `
import datetime
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/raise"):
            raise ValueError("fetch failed on purpose")
        body = await request.text()
        return Response(
            f"server saw {request.method} {request.url} {body}",
            status=201,
            headers={"x-from": "server", "x-hdr": request.headers.get("x-hdr") or ""},
        )

    async def add(self, a, b):
        return a + b

    def echo(self, value):
        return {"got": value, "types": type_names(value)}

    async def shift(self, moment, days):
        return moment + datetime.timedelta(days=days)

    async def boom(self, message):
        raise ValueError(message)

    async def answer(self, request):
        return Response(f"answered {request.method} {await request.text()}", headers={"x-a": "1"})

    async def _secret(self):
        return "never"

    async def uses_env(self):
        return self.env.GREETING


class Admin(WorkerEntrypoint):
    async def whoami(self):
        return "admin entrypoint"

    async def fetch(self, request):
        return Response("admin fetch " + request.url)


def type_names(value):
    if isinstance(value, dict):
        return {k: type_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [type_names(v) for v in value]
    return type(value).__name__
`;

const client = `
import datetime
import json
from workers import (
    BindingError, Request, Response, RpcError, WorkerEntrypoint, python_from_rpc, python_to_rpc,
)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        svc = self.env.SERVER
        if path == "add":
            return Response(json.dumps(await svc.add(2, 40)))
        if path == "echo":
            got = await svc.echo({
                "s": "x", "i": 7, "big": 2**60, "f": 1.5, "t": True, "n": None,
                "l": [1, "two", None], "b": b"\\x00\\xff",
                "d": {"nested": [b"z"]},
            })
            return Response(json.dumps([got["types"], got["got"]["b"].hex(), got["got"]["big"],
                                        type(got).__name__, got.got["s"]]))
        if path == "datetime":
            moment = datetime.datetime(2024, 1, 31, 12, 30, tzinfo=datetime.UTC)
            later = await svc.shift(moment, 1)
            return Response(json.dumps([type(later).__name__, later.isoformat()]))
        if path == "boom":
            try:
                await svc.boom("bad input")
            except ValueError as exc:
                return Response(json.dumps([type(exc).__name__, isinstance(exc, RpcError),
                                            exc.name, str(exc), "in boom" in (exc.remote_traceback or "")]))
        if path == "private":
            try:
                await svc._secret()
            except AttributeError as exc:
                return Response("refused here: " + str(exc))
        if path == "undefined":
            try:
                await svc.nothing_here(1)
            except TypeError as exc:
                return Response("refused there: " + str(exc))
        if path == "fetch":
            res = await svc.fetch("https://server.internal/hello?q=1", method="POST",
                                  body="payload", headers={"x-hdr": "yes"})
            return Response(json.dumps([res.status, res.headers.get("x-from"),
                                        res.headers.get("x-hdr"), await res.text()]))
        if path == "fetch-raises":
            try:
                await svc.fetch("https://server.internal/raise")
            except ValueError as exc:
                return Response("caught " + str(exc))
        if path == "fetch-request":
            res = await svc.fetch(Request("https://server.internal/r", method="PUT", body="b"))
            return Response(await res.text())
        if path == "request-arg":
            res = await svc.answer(Request("https://x/", method="POST", body="via rpc"))
            return Response(json.dumps([type(res).__name__, res.headers.get("x-a"), await res.text()]))
        if path == "env":
            return Response(await svc.uses_env())
        if path == "admin":
            return Response(await self.env.ADMIN.whoami() + " / " +
                            await (await self.env.ADMIN.fetch("https://admin/x")).text())
        if path == "missing":
            try:
                await self.env.GONE.add(1, 2)
            except BindingError as exc:
                return Response("binding error: " + str(exc))
        if path == "helpers":
            back = python_from_rpc(python_to_rpc({"a": [1, b"x", None], "r": Response("hi")}))
            return Response(json.dumps([type(back).__name__, back.a[1].decode(), back.a[2],
                                        type(back.r).__name__, await back.r.text()]))
        if path == "kwargs":
            try:
                await svc.add(a=1, b=2)
            except TypeError as exc:
                return Response(str(exc))
        if path == "tuple":
            try:
                await svc.echo((1, 2))
            except TypeError as exc:
                return Response(str(exc))
        return Response("no route " + path, status=404)
`;

async function bundleOf(
  name: string,
  source: string,
  bindings: { type: 'service'; name: string; service: string; entrypoint?: string }[] = [],
  vars: Record<string, string> = {},
): Promise<Bundle> {
  const bytes = await buildBundle({
    name,
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(source)]]),
    vars,
    bindings: { bindings },
  });
  return decodeBundle(bytes);
}

let serverBundle: Bundle;
let clientBundle: Bundle;
beforeAll(async () => {
  serverBundle = await bundleOf('server', server, [], { GREETING: 'hello from server env' });
  clientBundle = await bundleOf('client', client, [
    { type: 'service', name: 'SERVER', service: 'server' },
    { type: 'service', name: 'ADMIN', service: 'server', entrypoint: 'Admin' },
    { type: 'service', name: 'GONE', service: 'not-served' },
  ]);
}, 300_000);

for (const hostKind of ['local', 'process'] as const) {
  describe(`service bindings (${hostKind} hosts)`, () => {
    let router: Router;
    let base: string;
    const logger = memoryLogger();
    beforeAll(async () => {
      router = createRouter({
        hostKind,
        hosts: hostKind === 'process' ? 2 : 1,
        logger,
        eventSources: false,
        workers: [
          { name: 'client', routes: [{ pathPrefix: '/' }], bundle: async () => clientBundle },
          { name: 'server', routes: [{ pathPrefix: '/server' }], bundle: async () => serverBundle },
        ],
      });
      const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${port}`;
    }, 300_000);
    afterAll(async () => {
      await router?.close();
    });
    const get = async (path: string): Promise<string> => {
      const res = await fetch(`${base}/${path}`);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      return text;
    };

    it('calls a method of the other worker and gets a Python value back', async () => {
      expect(JSON.parse(await get('add'))).toBe(42);
    });

    it('converts dict, list, str, int, float, bool, None and bytes both ways', async () => {
      const [types, hex, big, kind, s] = JSON.parse(await get('echo'));
      expect(types).toEqual({
        s: 'str',
        i: 'int',
        big: 'int',
        f: 'float',
        t: 'bool',
        n: 'NoneType',
        l: ['int', 'str', 'NoneType'],
        b: 'bytes',
        d: { nested: ['bytes'] },
      });
      expect([hex, big, kind, s]).toEqual(['00ff', 2 ** 60, 'JsDict', 'x']);
    });

    it("has Cloudflare's python_to_rpc / python_from_rpc", async () => {
      expect(JSON.parse(await get('helpers'))).toEqual(['JsDict', 'x', null, 'Response', 'hi']);
    });

    it('converts datetimes (arriving naive, in UTC, as on Cloudflare)', async () => {
      expect(JSON.parse(await get('datetime'))).toEqual(['datetime', '2024-02-01T12:30:00']);
    });

    it('raises a remote exception in the caller, its traceback in the log', async () => {
      const [cls, isRpc, name, message, hasTb] = JSON.parse(await get('boom'));
      expect([cls, isRpc, name, message, hasTb]).toEqual([
        'ValueError',
        true,
        'ValueError',
        'ValueError: bad input',
        true,
      ]);
      // A host process's log lines come over IPC; the answer may come first, on a lane.
      await waitFor(
        async () =>
          logger.lines.some(
            (l) => l.level === 'error' && /in boom[\s\S]*ValueError: bad input/.test(l.msg ?? ''),
          ),
        10_000,
      );
    });

    it('refuses private and undefined methods with a clear error', async () => {
      expect(await get('private')).toMatch(
        /refused here: SERVER\._secret: names starting with '_'/,
      );
      expect(await get('undefined')).toMatch(
        /refused there: TypeError: the RPC receiver Default does not implement the method 'nothing_here'/,
      );
      expect(await get('kwargs')).toMatch(/positional arguments only/);
      expect(await get('tuple')).toMatch(/tuple cannot be sent over RPC \(send a list\)/);
    });

    it("reaches the other worker's fetch without a network hop", async () => {
      expect(JSON.parse(await get('fetch'))).toEqual([
        201,
        'server',
        'yes',
        'server saw POST https://server.internal/hello?q=1 payload',
      ]);
      expect(await get('fetch-request')).toBe('server saw PUT https://server.internal/r b');
      // The target's fetch raised: the caller's fetch raises it (as a JS Error would on Cloudflare).
      expect(await get('fetch-raises')).toBe('caught ValueError: fetch failed on purpose');
    });

    it('passes Request and Response objects as RPC values', async () => {
      expect(JSON.parse(await get('request-arg'))).toEqual([
        'Response',
        '1',
        'answered POST via rpc',
      ]);
    });

    it("runs the method with the target's own env", async () => {
      expect(await get('env')).toBe('hello from server env');
    });

    it('calls a named WorkerEntrypoint class (entrypoint)', async () => {
      expect(await get('admin')).toBe('admin entrypoint / admin fetch https://admin/x');
    });

    it('raises BindingError naming the binding when the service is not served', async () => {
      expect(await get('missing')).toMatch(
        /binding error: GONE\.add\(\): .*"not-served", which this server does not serve.*\[ERR_SERVICE_NOT_SERVED\]/,
      );
    });
  });
}

describe('service bindings within one host process', () => {
  let router: Router;
  let base: string;
  beforeAll(async () => {
    router = createRouter({
      hostKind: 'process',
      hosts: 1,
      eventSources: false,
      workers: [
        { name: 'client', routes: [{ pathPrefix: '/' }], bundle: async () => clientBundle },
        { name: 'server', routes: [{ pathPrefix: '/server' }], bundle: async () => serverBundle },
      ],
    });
    const { port } = await router.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${port}`;
  }, 300_000);
  afterAll(async () => {
    await router?.close();
  });

  it('run there once the target is warm there, without a trip through the router', async () => {
    const deliver = router.deliver.bind(router);
    let viaRouter = 0;
    router.deliver = (call) => {
      viaRouter++;
      return deliver(call);
    };
    // The first call cold-starts the server through the router; later ones stay in the host.
    expect(await (await fetch(`${base}/add`)).text()).toBe('42');
    const first = viaRouter;
    for (const path of ['add', 'fetch', 'boom', 'admin'])
      expect((await fetch(`${base}/${path}`)).status, path).toBe(200);
    expect(viaRouter).toBe(first);
    expect(JSON.parse(await (await fetch(`${base}/boom`)).text())[0]).toBe('ValueError');
  });
});
