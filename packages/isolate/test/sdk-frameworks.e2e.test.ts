// ASGI (FastAPI/Starlette style) and WSGI (Flask/Django style) apps served through the SDK's
// adapters. The apps are written here: no third-party framework is installable offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Isolate } from '../src/index.js';
import { memoryLogger, send, startWorker } from './sdk-helpers.js';

const asgiApp = `
import json


class LifespanApp:
    """An ASGI app with lifespan support that counts its startups."""

    def __init__(self):
        self.startups = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.startups += 1
                    scope["state"]["db"] = "connected"
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert scope["type"] == "http"
        path = scope["path"]
        if path == "/asgi/scope":
            body = json.dumps({
                "method": scope["method"],
                "scheme": scope["scheme"],
                "path": scope["path"],
                "raw_path": scope["raw_path"].decode(),
                "query_string": scope["query_string"].decode(),
                "headers": [[k.decode(), v.decode()] for k, v in scope["headers"] if k.startswith(b"x-")],
                "server": list(scope["server"]),
                "env_who": scope["env"].WHO,
                "state": scope["state"],
                "startups": self.startups,
                "asgi": scope["asgi"]["version"],
            }).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
        elif path == "/asgi/echo":
            received = b""
            while True:
                message = await receive()
                received += message.get("body", b"")
                if not message.get("more_body"):
                    break
            await send({"type": "http.response.start", "status": 201,
                        "headers": [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
            await send({"type": "http.response.body", "body": received[::-1]})
        elif path == "/asgi/chunks":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for part in (b"one,", b"two,", b"three"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif path == "/asgi/empty":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        elif path == "/asgi/error":
            raise KeyError("asgi app failed")
        elif path == "/asgi/silent":
            return
        else:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"no route"})


app = LifespanApp()


async def bare_app(scope, receive, send):
    # No lifespan support at all: the adapter must still serve it.
    assert scope["type"] == "http", "lifespan is not supported"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"bare")]})
    await send({"type": "http.response.body", "body": b"bare " + scope["method"].encode()})
`;

const wsgiApp = `
import json


class Closing:
    closed = 0

    def __init__(self, parts):
        self.parts = parts

    def __iter__(self):
        return iter(self.parts)

    def close(self):
        Closing.closed += 1


def app(environ, start_response):
    # PEP 3333: PATH_INFO carries the URL's UTF-8 bytes as latin-1 characters.
    path = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
    if path == "/wsgi/environ":
        keys = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
                "SERVER_PORT", "SERVER_PROTOCOL", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_X_ONE",
                "HTTP_X_MULTI", "wsgi.url_scheme"]
        data = {k: environ.get(k) for k in keys}
        data["wsgi.version"] = list(environ["wsgi.version"])
        data["body"] = environ["wsgi.input"].read().decode()
        data["env_who"] = environ["workers.env"].WHO
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(data).encode()]
    if path == "/wsgi/created":
        write = start_response("201 Created", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        write(b"written,")
        return Closing([b"iter", b"able"])
    if path == "/wsgi/closed":
        start_response("200 OK", [])
        return [str(Closing.closed).encode()]
    if path == "/wsgi/unicode-é":
        start_response("200 OK", [])
        return [repr(environ["PATH_INFO"]).encode()]
    if path == "/wsgi/cookies":
        from http.cookies import SimpleCookie

        jar = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        data = {"raw": environ.get("HTTP_COOKIE"), "parsed": {k: m.value for k, m in jar.items()}}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(data).encode()]
    if path == "/wsgi/error":
        raise LookupError("wsgi app failed")
    start_response("404 Not Found", [])
    return [b"no route"]
`;

const entry = `
import asgi
import wsgi as top_level_wsgi
from workers import Response, WorkerEntrypoint
from workers import asgi as workers_asgi
from workers import wsgi

import asgi_app
import wsgi_app


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = request.url
        if "/asgi/" in url:
            return await asgi.fetch(asgi_app.app, request, self.env)
        if "/bare" in url:
            return await workers_asgi.fetch(asgi_app.bare_app, request.js_object, self.env)
        if "/top-wsgi" in url:
            return await top_level_wsgi.fetch(wsgi_app.app, request, self.env)
        if "/wsgi/" in url:
            return await wsgi.fetch(wsgi_app.app, request, self.env)
        if "/same" in url:
            return Response(repr(asgi.fetch is workers_asgi.fetch and top_level_wsgi.fetch is wsgi.fetch))
        return Response("no route", status=404)
`;

const logger = memoryLogger();
let isolate: Isolate;

beforeAll(async () => {
  ({ isolate } = await startWorker(
    'sdk-frameworks',
    { 'entry.py': entry, 'asgi_app.py': asgiApp, 'wsgi_app.py': wsgiApp },
    { vars: { WHO: 'framework-tester' }, logger },
  ));
});

afterAll(async () => {
  await isolate?.close();
});

describe('asgi.fetch', () => {
  it('builds an http scope with decoded path, raw query, headers, env and lifespan state', async () => {
    const res = await send(isolate, 'http://127.0.0.1:8787/asgi/scope?a=1&b=%20x', {
      headers: [
        ['X-One', '1'],
        ['x-multi', 'a'],
      ],
    });
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('application/json');
    expect(JSON.parse(res.text)).toEqual({
      method: 'GET',
      scheme: 'http',
      path: '/asgi/scope',
      raw_path: '/asgi/scope',
      query_string: 'a=1&b=%20x',
      headers: [
        ['x-multi', 'a'],
        ['x-one', '1'],
      ],
      server: ['127.0.0.1', 8787],
      env_who: 'framework-tester',
      state: { db: 'connected' },
      startups: 1,
      asgi: '3.0',
    });
  });

  it('runs the lifespan startup once per isolate', async () => {
    await send(isolate, 'http://127.0.0.1/asgi/scope');
    const res = await send(isolate, 'http://127.0.0.1/asgi/scope');
    expect(JSON.parse(res.text).startups).toBe(1);
  });

  it('hands the body to receive() and keeps repeated response headers', async () => {
    const res = await send(isolate, 'http://127.0.0.1/asgi/echo', {
      method: 'POST',
      body: 'abc',
    });
    expect(res.status).toBe(201);
    expect(res.text).toBe('cba');
    expect(res.all('set-cookie')).toEqual(['a=1', 'b=2']);
  });

  it('joins a body sent in chunks, and sends no body for 204', async () => {
    expect((await send(isolate, 'http://127.0.0.1/asgi/chunks')).text).toBe('one,two,three');
    const empty = await send(isolate, 'http://127.0.0.1/asgi/empty');
    expect(empty.status).toBe(204);
    expect(empty.body.byteLength).toBe(0);
  });

  it('serves an app without lifespan support, from workers.asgi and a raw JS Request', async () => {
    const res = await send(isolate, 'http://127.0.0.1/bare', { method: 'DELETE' });
    expect(res.text).toBe('bare DELETE');
    expect(res.header('x-app')).toBe('bare');
    expect((await send(isolate, 'http://127.0.0.1/same')).text).toBe('True');
  });

  it('turns an app exception into a handler error, and one without a response too', async () => {
    await expect(send(isolate, 'http://127.0.0.1/asgi/error')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_HANDLER',
      message: expect.stringContaining("KeyError: 'asgi app failed'"),
    });
    await expect(send(isolate, 'http://127.0.0.1/asgi/silent')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_HANDLER',
      message: expect.stringContaining('The application did not generate a response'),
    });
    expect((await send(isolate, 'http://127.0.0.1/asgi/chunks')).status).toBe(200);
  });
});

describe('wsgi.fetch', () => {
  it('builds a PEP 3333 environ with the body, headers and env', async () => {
    const res = await send(isolate, 'https://example.test/wsgi/environ?x=1', {
      method: 'POST',
      headers: [
        ['content-type', 'text/plain'],
        ['x-one', '1'],
        ['x-multi', 'a'],
        ['x-multi', 'b'],
      ],
      body: 'form body',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      REQUEST_METHOD: 'POST',
      SCRIPT_NAME: '',
      PATH_INFO: '/wsgi/environ',
      QUERY_STRING: 'x=1',
      SERVER_NAME: 'example.test',
      SERVER_PORT: '443',
      SERVER_PROTOCOL: 'HTTP/1.1',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '9',
      HTTP_X_ONE: '1',
      HTTP_X_MULTI: 'a, b',
      'wsgi.url_scheme': 'https',
      'wsgi.version': [1, 0],
      body: 'form body',
      env_who: 'framework-tester',
    });
  });

  it('takes the status line, repeated headers, write() output and closes the iterable', async () => {
    const res = await send(isolate, 'http://127.0.0.1/wsgi/created');
    expect(res.status).toBe(201);
    expect(res.text).toBe('written,iterable');
    expect(res.all('set-cookie')).toEqual(['a=1', 'b=2']);
    expect((await send(isolate, 'http://127.0.0.1/wsgi/closed')).text).toBe('1');
  });

  it('joins repeated Cookie headers with "; " so every cookie parses', async () => {
    const res = await send(isolate, 'http://127.0.0.1/wsgi/cookies', {
      headers: [
        ['cookie', 'session=abc; theme=dark'],
        ['cookie', 'lang=en'],
      ],
    });
    expect(JSON.parse(res.text)).toEqual({
      raw: 'session=abc; theme=dark; lang=en',
      parsed: { session: 'abc', theme: 'dark', lang: 'en' },
    });
  });

  it('gives PATH_INFO as a WSGI native string', async () => {
    const res = await send(isolate, 'http://127.0.0.1/wsgi/unicode-%C3%A9');
    expect(res.text).toBe("'/wsgi/unicode-Ã©'");
  });

  it('works through the top-level wsgi module, and reports app exceptions', async () => {
    const res = await send(isolate, 'http://127.0.0.1/top-wsgi/wsgi/created');
    expect(res.status).toBe(404);
    await expect(send(isolate, 'http://127.0.0.1/wsgi/error')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_HANDLER',
      message: expect.stringContaining('LookupError: wsgi app failed'),
    });
  });
});
