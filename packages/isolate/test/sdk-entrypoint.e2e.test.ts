// The `workers` SDK as a `class Default(WorkerEntrypoint)` worker sees it: Request, Response,
// env, ctx.wait_until, outbound fetch, logging. One bundle, one restored isolate for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBundle, Isolate } from '../src/index.js';
import { type Hit, memoryLogger, send, startServer, startWorker } from './sdk-helpers.js';

const entry = String.raw`
import asyncio
import json
import logging
from urllib.parse import urlsplit, parse_qs

import js
from workers import Request, Response, WorkerEntrypoint, fetch, wait_until
from workers import env as module_env

log = logging.getLogger("sdk-test")
in_flight = 0
peak = 0


async def checks():
    """Response construction rules, each as name -> outcome."""
    out = {}

    def outcome(name, make):
        try:
            out[name] = repr(make())
        except Exception as exc:
            out[name] = f"{type(exc).__name__}: {exc}"

    outcome("bytes_ct", lambda: Response(b"x").headers.get("content-type"))
    outcome("json_ct", lambda: Response.json([1]).headers.get("content-type"))
    outcome("json_status", lambda: Response.json({"a": 1}, status=201).status)
    outcome("custom_ct", lambda: Response("x", headers={"Content-Type": "text/html"}).headers.get_all("content-type"))
    outcome("body_204", lambda: Response("", status=204))
    outcome("empty_204", lambda: Response(status=204).status)
    outcome("status_700", lambda: Response("x", status=700))
    outcome("redirect_200", lambda: Response.redirect("http://127.0.0.1/", 200))
    outcome("redirect_relative", lambda: Response.redirect("/relative"))
    outcome("dict_body", lambda: Response({"a": 1}))
    outcome("header_injection", lambda: Response("x", headers={"x-a": "1\r\nx-b: 2"}))
    outcome("bad_header_name", lambda: Response("x", headers={"bad name": "1"}))
    outcome("int_header", lambda: Response("x", headers={"x-n": 5}).headers.get("x-n"))
    outcome("ok", lambda: (Response("x").ok, Response("x", status=404).ok))
    out["own_text"] = await Response("héllo").text()
    out["own_json"] = await Response.json({"k": [1, 2]}).json()
    out["js_object"] = Response("x", status=202).js_object.status
    from_js_body = Response(js.Uint8Array.new([104, 105]), status=201, headers={"X-K": "v"})
    out["js_body"] = [from_js_body.status, from_js_body.headers.get("x-k"), await from_js_body.text()]
    return out


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if path == "/echo":
            return Response.json({
                "method": request.method,
                "method_is_str": isinstance(request.method, str),
                "url": request.url,
                "x_one": request.headers.get("X-One"),
                "multi": request.headers.get_all("x-multi"),
                "text": await request.text(),
                "js_class": request.js_object.constructor.name,
                "js_header": request.js_object.headers.get("x-one"),
            })
        if path == "/json-in":
            data = await request.json()
            return Response.json({"got": data}, status=201)
        if path == "/bytes-in":
            data = await request.bytes()
            return Response(bytes(reversed(data)), headers=[("x-len", str(len(data)))])
        if path == "/twice":
            await request.text()
            try:
                await request.text()
            except OSError as exc:
                return Response(str(exc), status=409)
        if path == "/text":
            return Response("héllo wörld")
        if path == "/cookies":
            return Response(
                "c",
                status=418,
                headers=[("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2"), ("X-Custom", "v")],
            )
        if path == "/dict-headers":
            return Response(b"\x00\x01\x02", headers={"X-One": "1", "Content-Type": "application/octet-stream"})
        if path == "/redirect":
            return Response.redirect("http://127.0.0.1/elsewhere")
        if path == "/redirect-301":
            return Response.redirect("http://127.0.0.1/moved", status=301)
        if path == "/checks":
            return Response.json(await checks())
        if path == "/env":
            return Response.json({
                "WHO": self.env.WHO,
                "TOKEN": self.env.get("TOKEN"),
                "has_token": "TOKEN" in self.env,
                "repr": repr(self.env),
                # Taken at top level, at build time: filled in place after the restore.
                "module_env": module_env.get("TOKEN") if module_env is self.env else "another object",
            })
        if path == "/env-missing":
            return Response(self.env.NOPE)
        if path == "/fetch-json":
            res = await fetch(query["target"])
            return Response.json({
                "status": res.status,
                "ok": res.ok,
                "ct": res.headers.get("content-type"),
                "data": await res.json(),
                "is_response": isinstance(res, Response),
            })
        if path == "/fetch-post":
            res = await fetch(
                query["target"], method="POST", body=b"sent-bytes", headers={"x-sent": "1"}
            )
            return Response.json({"status": res.status, "text": await res.text()})
        if path == "/fetch-bytes":
            res = await fetch(Request(query["target"], method="PUT", body="as-text"))
            return Response.json({"bytes": list(await res.bytes())})
        if path == "/fetch-refused":
            try:
                await fetch(query["target"])
            except OSError as exc:
                return Response(str(exc), status=502)
        if path == "/proxy":
            # The fetch() result goes back as is: status, headers and body of the origin.
            return await fetch(query["target"])
        if path == "/pass-on":
            # The raw JS Request goes on, unchanged, to the URL it was sent to.
            res = await fetch(request.js_object)
            return Response("forwarded: " + await res.text(), status=res.status)
        if path == "/raw-js":
            return js.Response.new("from a JS Response", status=203)
        if path == "/wait-until":
            async def later():
                await asyncio.sleep(0.05)
                await fetch(query["target"])
            self.ctx.wait_until(later())
            return Response("scheduled")
        if path == "/wait-until-fails":
            async def broken():
                raise RuntimeError("background task broke")
            # The module-level spelling, as Cloudflare's workers.wait_until.
            wait_until(broken())
            return Response("scheduled")
        if path == "/log":
            print("printed line")
            log.info("info record %d", 7)
            log.warning("warn record")
            try:
                1 / 0
            except ZeroDivisionError:
                log.exception("caught it")
            return Response("logged")
        if path == "/sleep":
            global in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(int(query["ms"]) / 1000)
            in_flight -= 1
            return Response(f"{query['tag']} peak={peak}")
        if path == "/boom":
            raise ValueError("boom in handler")
        if path == "/not-a-response":
            return 42
        return Response("not found", status=404)
`;

const logger = memoryLogger();
let isolate: Isolate;
let bundle: Uint8Array;
let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer((hit: Hit, res) => {
    if (hit.url.startsWith('/data')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ from: 'server', n: 1 }));
    } else if (hit.url.startsWith('/echo-body') || hit.url.startsWith('/pass-on')) {
      res.end(`${hit.method} ${hit.headers['x-sent'] ?? '-'} ${hit.body}`);
    } else if (hit.url.startsWith('/binary')) {
      res.end(Buffer.from([0, 255, 7]));
    } else if (hit.url.startsWith('/origin')) {
      res.statusCode = 207;
      res.setHeader('set-cookie', ['s=1', 't=2']);
      res.setHeader('x-origin', 'yes');
      res.end('origin body');
    } else {
      res.end('ok');
    }
  });
  ({ bundle, isolate } = await startWorker(
    'sdk-entry',
    { 'entry.py': entry },
    { vars: { WHO: 'tester' }, secrets: { TOKEN: 's3cr3t-token' }, logger },
  ));
});

afterAll(async () => {
  await isolate?.close();
  await server?.close();
});

describe('workers.Request', () => {
  it('exposes method, url, headers (repeats kept), the body and the JS Request', async () => {
    const res = await send(isolate, 'http://127.0.0.1/echo?q=1', {
      method: 'POST',
      headers: [
        ['x-one', '1'],
        ['x-multi', 'a'],
        ['x-multi', 'b'],
      ],
      body: 'payload',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      method: 'POST',
      method_is_str: true,
      url: 'http://127.0.0.1/echo?q=1',
      x_one: '1',
      multi: ['a, b'],
      text: 'payload',
      js_class: 'Request',
      js_header: '1',
    });
  });

  it('reads a JSON body and a binary body', async () => {
    const json = await send(isolate, 'http://127.0.0.1/json-in', {
      method: 'POST',
      body: '{"a": [1, 2]}',
    });
    expect(json.status).toBe(201);
    expect(JSON.parse(json.text)).toEqual({ got: { a: [1, 2] } });
    const bin = await send(isolate, 'http://127.0.0.1/bytes-in', {
      method: 'PUT',
      body: new Uint8Array([1, 2, 3, 250]),
    });
    expect([...bin.body]).toEqual([250, 3, 2, 1]);
    expect(bin.header('x-len')).toBe('4');
  });

  it('refuses to read a body twice, as Cloudflare does', async () => {
    const res = await send(isolate, 'http://127.0.0.1/twice', { method: 'POST', body: 'x' });
    expect(res.status).toBe(409);
    expect(res.text).toBe('Body already used');
  });
});

describe('workers.Response', () => {
  it('gives a text body the content type a JS Response gives it', async () => {
    const res = await send(isolate, 'http://127.0.0.1/text');
    expect(res.status).toBe(200);
    expect(res.text).toBe('héllo wörld');
    expect(res.all('content-type')).toEqual(['text/plain;charset=UTF-8']);
  });

  it('keeps repeated headers from a list of pairs and takes a custom status', async () => {
    const res = await send(isolate, 'http://127.0.0.1/cookies');
    expect(res.status).toBe(418);
    expect(res.all('set-cookie')).toEqual(['a=1; Path=/', 'b=2']);
    expect(res.header('x-custom')).toBe('v');
  });

  it('sends bytes bodies unchanged with headers from a dict', async () => {
    const res = await send(isolate, 'http://127.0.0.1/dict-headers');
    expect([...res.body]).toEqual([0, 1, 2]);
    expect(res.header('x-one')).toBe('1');
    expect(res.all('content-type')).toEqual(['application/octet-stream']);
  });

  it('redirects with 302 by default, or the status given', async () => {
    const found = await send(isolate, 'http://127.0.0.1/redirect');
    expect(found.status).toBe(302);
    expect(found.header('location')).toBe('http://127.0.0.1/elsewhere');
    const moved = await send(isolate, 'http://127.0.0.1/redirect-301');
    expect(moved.status).toBe(301);
    expect(moved.header('location')).toBe('http://127.0.0.1/moved');
  });

  it('follows the JS Response rules for content types, statuses and headers', async () => {
    const res = await send(isolate, 'http://127.0.0.1/checks');
    expect(JSON.parse(res.text)).toEqual({
      bytes_ct: 'None',
      json_ct: "'application/json'",
      json_status: '201',
      custom_ct: "['text/html']",
      body_204: 'TypeError: a Response with status 204 cannot have a body',
      empty_204: '204',
      status_700: 'ValueError: Response status must be in the range 200 to 599, got 700',
      redirect_200: 'ValueError: redirect status must be one of 301, 302, 303, 307, 308, got 200',
      redirect_relative: "TypeError: redirect URL '/relative' is not an absolute URL",
      dict_body:
        'TypeError: Unsupported type in Response: dict (use str, bytes, FormData, Blob or a JS body such as a ReadableStream)',
      header_injection: "TypeError: the value of header 'x-a' contains CR, LF or NUL",
      bad_header_name: "TypeError: 'bad name' is an invalid header name",
      int_header: "'5'",
      ok: '(True, False)',
      own_text: 'héllo',
      own_json: { k: [1, 2] },
      js_object: 202,
      js_body: [201, 'v', 'hi'],
    });
  });

  it('accepts a JS Response returned by the handler', async () => {
    const res = await send(isolate, 'http://127.0.0.1/raw-js');
    expect(res.status).toBe(203);
    expect(res.text).toBe('from a JS Response');
    expect(res.header('content-type')).toBe('text/plain;charset=UTF-8');
  });
});

describe('env', () => {
  it('holds the config vars and the secrets given at start, and hides values in repr', async () => {
    const res = await send(isolate, 'http://127.0.0.1/env');
    expect(JSON.parse(res.text)).toEqual({
      WHO: 'tester',
      TOKEN: 's3cr3t-token',
      has_token: true,
      repr: 'Env(TOKEN, WHO)',
      module_env: 's3cr3t-token',
    });
    // The secret is not in the bundle (nor, therefore, in its snapshot).
    expect(Buffer.from(bundle).includes('s3cr3t-token')).toBe(false);
  });

  it('is empty of secrets in another isolate restored from the same bundle', async () => {
    const other = await Isolate.start(decodeBundle(bundle), { logger });
    try {
      const res = await send(other, 'http://127.0.0.1/env');
      expect(JSON.parse(res.text)).toMatchObject({
        WHO: 'tester',
        TOKEN: null,
        has_token: false,
        module_env: null,
      });
    } finally {
      await other.close();
    }
  });

  it('names a missing binding and how to define it', async () => {
    await expect(send(isolate, 'http://127.0.0.1/env-missing')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_HANDLER',
      message: expect.stringContaining("env has no binding 'NOPE'"),
    });
  });
});

describe('outbound fetch over real HTTP', () => {
  it('returns status, headers and a JSON body', async () => {
    const target = encodeURIComponent(`${server.origin}/data`);
    const res = await send(isolate, `http://127.0.0.1/fetch-json?target=${target}`);
    expect(JSON.parse(res.text)).toEqual({
      status: 200,
      ok: true,
      ct: 'application/json',
      data: { from: 'server', n: 1 },
      is_response: true,
    });
  });

  it('sends a method, headers and a bytes or text body', async () => {
    const post = await send(
      isolate,
      `http://127.0.0.1/fetch-post?target=${encodeURIComponent(`${server.origin}/echo-body`)}`,
    );
    expect(JSON.parse(post.text)).toEqual({ status: 200, text: 'POST 1 sent-bytes' });
    const put = await send(
      isolate,
      `http://127.0.0.1/fetch-bytes?target=${encodeURIComponent(`${server.origin}/binary`)}`,
    );
    expect(JSON.parse(put.text)).toEqual({ bytes: [0, 255, 7] });
    expect(server.hits.some((h) => h.method === 'PUT' && h.body === 'as-text')).toBe(true);
  });

  it('raises OSError naming the URL when the connection fails', async () => {
    const closed = await startServer(() => {});
    await closed.close();
    const res = await send(
      isolate,
      `http://127.0.0.1/fetch-refused?target=${encodeURIComponent(`${closed.origin}/x`)}`,
    );
    expect(res.status).toBe(502);
    expect(res.text).toContain(`fetch ${closed.origin}/x failed`);
    expect(res.text).toContain('ECONNREFUSED');
  });

  it('can return the fetched response itself (a proxy), repeated headers kept', async () => {
    const res = await send(
      isolate,
      `http://127.0.0.1/proxy?target=${encodeURIComponent(`${server.origin}/origin`)}`,
    );
    expect(res.status).toBe(207);
    expect(res.text).toBe('origin body');
    expect(res.all('set-cookie')).toEqual(['s=1', 't=2']);
    expect(res.header('x-origin')).toBe('yes');
  });

  it('passes request.js_object on unchanged', async () => {
    const hit = server.nextHit('/pass-on');
    const res = await send(isolate, `${server.origin}/pass-on`, {
      method: 'POST',
      headers: [['x-sent', 'passed']],
      body: 'original body',
    });
    expect(res.text).toBe('forwarded: POST passed original body');
    expect((await hit).method).toBe('POST');
  });
});

describe('ctx.wait_until', () => {
  it('runs the task after the response was sent', async () => {
    const hit = server.nextHit('/later');
    const res = await send(
      isolate,
      `http://127.0.0.1/wait-until?target=${encodeURIComponent(`${server.origin}/later`)}`,
    );
    expect(res.text).toBe('scheduled');
    expect(server.hits.some((h) => h.url === '/later')).toBe(false);
    expect((await hit).method).toBe('GET');
  });

  it('logs a task that fails, with its traceback', async () => {
    const res = await send(isolate, 'http://127.0.0.1/wait-until-fails');
    expect(res.text).toBe('scheduled');
    await expect
      .poll(() => logger.entries.find((e) => e.msg.includes('background task broke')))
      .toMatchObject({ level: 'error', fields: { worker: 'sdk-entry', logger: 'workers' } });
  });
});

describe('logs', () => {
  it('tags print() and logging records with the worker name and their level', async () => {
    const before = logger.entries.length;
    await send(isolate, 'http://127.0.0.1/log');
    await expect.poll(() => logger.entries.length - before).toBeGreaterThanOrEqual(4);
    const got = logger.entries.slice(before);
    expect(got).toContainEqual({
      level: 'info',
      fields: { worker: 'sdk-entry', stream: 'stdout' },
      msg: 'printed line',
    });
    expect(got).toContainEqual({
      level: 'info',
      fields: { worker: 'sdk-entry', stream: 'logging', logger: 'sdk-test' },
      msg: 'info record 7',
    });
    expect(got).toContainEqual({
      level: 'warn',
      fields: { worker: 'sdk-entry', stream: 'logging', logger: 'sdk-test' },
      msg: 'warn record',
    });
    const caught = got.find((e) => e.msg.startsWith('caught it'));
    expect(caught?.level).toBe('error');
    expect(caught?.msg).toContain('ZeroDivisionError: division by zero');
  });
});

describe('concurrent requests', () => {
  it('interleave in one isolate, each answered with its own response', async () => {
    const tags = ['slow', 'medium', 'fast'];
    const answers = await Promise.all(
      tags.map((tag, i) => send(isolate, `http://127.0.0.1/sleep?ms=${300 - i * 100}&tag=${tag}`)),
    );
    // The slow one finishes last, having seen all three handlers in flight at once.
    expect(answers.map((a) => a.text)).toEqual(['slow peak=3', 'medium peak=3', 'fast peak=3']);
  });
});

describe('a handler that raises', () => {
  it('is a handler error with the traceback in the log, and the isolate keeps serving', async () => {
    const before = logger.entries.length;
    await expect(send(isolate, 'http://127.0.0.1/boom')).rejects.toMatchObject({
      name: 'IsolateError',
      code: 'ERR_ISOLATE_HANDLER',
      userError: true,
      message: expect.stringContaining('ValueError: boom in handler'),
      // Found in the thread, from the traceback: the worker's own line that raised.
      where: expect.stringMatching(/^entry\.py:\d+$/),
      hint: "fix the exception in the worker's handler",
    });
    const logged = logger.entries.slice(before).find((e) => e.level === 'error');
    expect(logged?.fields).toMatchObject({ worker: 'sdk-entry' });
    expect(logged?.msg).toMatch(/^Traceback \(most recent call last\):/);
    expect(logged?.msg).toMatch(/File "\/session\/worker\/entry\.py", line \d+, in fetch/);
    expect(logged?.msg).not.toContain('_pyworkers_runtime');
    const after = await send(isolate, 'http://127.0.0.1/text');
    expect(after.status).toBe(200);
  });

  it('reports a handler that returns something other than a Response', async () => {
    await expect(send(isolate, 'http://127.0.0.1/not-a-response')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_HANDLER',
      message: expect.stringContaining('fetch() must return a workers.Response, got int'),
    });
  });
});
