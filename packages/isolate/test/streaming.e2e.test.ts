// Streamed bodies between the host and a real isolate: responses that leave while the handler
// still runs (async generators, ASGI more_body, SSE, JS ReadableStreams), request bodies read
// chunk by chunk, and backpressure when the reader stops. One restored isolate for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BodyStream, type Isolate, isBodyStream, STREAM_WINDOW_BYTES } from '../src/index.js';
import { BATCH_BYTES } from '../src/worker/python-chunks.js';
import { startWorker } from './sdk-helpers.js';

const entry = String.raw`
import asyncio
import json
from urllib.parse import urlsplit

import js
from workers import Response, WorkerEntrypoint
import asgi

gates = {}
state = {"produced": 0, "closed": False}


def gate(name):
    if name not in gates:
        gates[name] = asyncio.Event()
    return gates[name]


async def gated(name):
    yield "first;"
    await gate(name).wait()
    yield b"second"


async def endless():
    chunk = b"x" * 16384
    try:
        while True:
            state["produced"] += 1
            yield chunk
    finally:
        state["closed"] = True


async def app(scope, receive, send):
    path = scope["path"]
    if path == "/asgi/stream":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        await gate("asgi").wait()
        await send({"type": "http.response.body", "body": b"second", "more_body": False})
    elif path == "/asgi/sse":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        for i in range(3):
            await send({"type": "http.response.body", "body": f"data: {i}\n\n".encode(), "more_body": True})
            await gate(f"sse{i}").wait()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/asgi/upload":
        events, size = 0, 0
        while True:
            message = await receive()
            events += 1
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps({"events": events, "size": size}).encode()})


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path.startswith("/asgi/"):
            return await asgi.fetch(app, request, self.env)
        if path == "/gated":
            return Response(gated("py"), headers={"content-type": "text/plain"})
        if path.startswith("/release/"):
            gate(path.removeprefix("/release/")).set()
            return Response("released")
        if path == "/endless":
            return Response(endless())
        if path == "/state":
            return Response.json(state)
        if path == "/js-stream":
            # A JS stream (js.eval is out of Python's reach, so its source is a proxy).
            from pyodide.ffi import create_once_callable, create_proxy

            def start(c):
                enc = js.TextEncoder.new()
                c.enqueue(enc.encode("js;"))

                def later():
                    c.enqueue(enc.encode("stream"))
                    c.close()

                js.setTimeout(create_once_callable(later), 50)

            source = js.Object.fromEntries([["start", create_proxy(start)]])
            return Response(js.ReadableStream.new(source))
        if path == "/count":
            chunks, size = 0, 0
            async for chunk in request.stream():
                chunks += 1
                size += len(chunk)
            return Response.json({"chunks": chunks, "size": size})
        if path in ("/digest", "/digest-clone"):
            import hashlib

            copy = request.clone() if path == "/digest-clone" else None
            streamed = hashlib.sha256()
            async for chunk in request.stream():
                streamed.update(chunk)
            other = hashlib.sha256(await copy.bytes()).hexdigest() if copy else None
            return Response.json({"streamed": streamed.hexdigest(), "clone": other})
        if path == "/echo":
            return Response(request.body, headers={"content-type": "application/octet-stream"})
        return Response("whole body")
`;

let isolate: Isolate;
const url = (path: string): string => `http://127.0.0.1${path}`;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function get(path: string, body?: BodyStream) {
  return isolate.fetch(
    { method: body ? 'POST' : 'GET', url: url(path), headers: [], body: body ?? new Uint8Array() },
    { stream: true },
  );
}

async function getText(path: string): Promise<string> {
  return text(
    (await isolate.fetch({ method: 'GET', url: url(path), headers: [], body: new Uint8Array() }))
      .body,
  );
}

async function* chunksOf(total: number, size: number): BodyStream {
  for (let sent = 0; sent < total; sent += size)
    yield new Uint8Array(Math.min(size, total - sent)).fill(97);
}

beforeAll(async () => {
  ({ isolate } = await startWorker('streaming', { 'entry.py': entry }));
});
afterAll(async () => {
  await isolate?.close();
});

describe('streamed responses', () => {
  it('sends a small whole body inline', async () => {
    const res = await get('/');
    expect(res.body).toBeInstanceOf(Uint8Array);
    expect(text(res.body as Uint8Array)).toBe('whole body');
  });

  for (const [path, release, first, second] of [
    ['/gated', '/release/py', 'first;', 'second'],
    ['/asgi/stream', '/release/asgi', 'first;', 'second'],
  ] as const) {
    it(`${path}: the first chunk arrives before the handler finishes`, async () => {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(isBodyStream(res.body)).toBe(true);
      const it = (res.body as BodyStream)[Symbol.asyncIterator]();
      // The handler is parked on a gate only a later request opens: this chunk left before.
      expect(text((await it.next()).value!)).toBe(first);
      expect(await getText(release)).toBe('released');
      expect(text((await it.next()).value!)).toBe(second);
      expect((await it.next()).done).toBe(true);
    });
  }

  it('server-sent events from an ASGI app arrive one by one', async () => {
    const res = await get('/asgi/sse');
    expect(res.headers).toContainEqual(['content-type', 'text/event-stream']);
    const it = (res.body as BodyStream)[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) {
      expect(text((await it.next()).value!)).toBe(`data: ${i}\n\n`);
      await getText(`/release/sse${i}`);
    }
    expect((await it.next()).done).toBe(true);
  });

  it('streams a JS ReadableStream body', async () => {
    const res = await get('/js-stream');
    const parts: string[] = [];
    for await (const chunk of res.body as BodyStream) parts.push(text(chunk));
    expect(parts).toEqual(['js;', 'stream']);
  });

  it('holds a producer back when the reader stops, and closes it when the reader leaves', async () => {
    const res = await get('/endless');
    const it = (res.body as BodyStream)[Symbol.asyncIterator]();
    await it.next();
    // Give the producer every chance to run ahead; it must stop at the credit window (plus
    // the one step of ready chunks the isolate took from it).
    let produced = -1;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 25));
      produced = (JSON.parse(await getText('/state')) as { produced: number }).produced;
    }
    const windowChunks = (STREAM_WINDOW_BYTES + BATCH_BYTES) / 16384;
    expect(produced).toBeGreaterThan(1);
    expect(produced).toBeLessThanOrEqual(windowChunks + 4);
    await it.return?.();
    await expect
      .poll(async () => (JSON.parse(await getText('/state')) as { closed: boolean }).closed)
      .toBe(true);
  });
});

describe('streamed request bodies', () => {
  it('request.stream() reads a 4 MiB body chunk by chunk', async () => {
    const res = await isolate.fetch({
      method: 'POST',
      url: url('/count'),
      headers: [],
      body: chunksOf(4 * 1024 * 1024, 64 * 1024),
    });
    const got = JSON.parse(text(res.body)) as { chunks: number; size: number };
    expect(got.size).toBe(4 * 1024 * 1024);
    expect(got.chunks).toBeGreaterThan(1);
  });

  for (const path of ['/digest', '/digest-clone']) {
    it(`${path}: every byte arrives as sent (chunks go round in pooled buffers)`, async () => {
      const { createHash } = await import('node:crypto');
      const sent = createHash('sha256');
      async function* varied(): BodyStream {
        for (let i = 0; i < 64; i++) {
          const chunk = new Uint8Array(50_000 + i).map((_, j) => (i * 31 + j) % 251);
          sent.update(chunk);
          yield chunk;
        }
      }
      const res = await isolate.fetch({
        method: 'POST',
        url: url(path),
        headers: [],
        body: varied(),
      });
      const got = JSON.parse(text(res.body)) as { streamed: string; clone: string | null };
      const digest = sent.digest('hex');
      expect(got.streamed).toBe(digest);
      // A clone tees the body: both branches see the same chunk objects, so none is recycled.
      expect(got.clone).toBe(path === '/digest-clone' ? digest : null);
    });
  }

  it('an ASGI app receives more_body events', async () => {
    const res = await isolate.fetch({
      method: 'POST',
      url: url('/asgi/upload'),
      headers: [],
      body: chunksOf(1024 * 1024, 64 * 1024),
    });
    const got = JSON.parse(text(res.body)) as { events: number; size: number };
    expect(got).toEqual({ events: 16, size: 1024 * 1024 });
  });

  it('Response(request.body) echoes a streamed body back', async () => {
    const res = await get('/echo', chunksOf(1024 * 1024 + 7, 100_000));
    let size = 0;
    for await (const chunk of res.body as BodyStream) size += chunk.byteLength;
    expect(size).toBe(1024 * 1024 + 7);
  });
});
