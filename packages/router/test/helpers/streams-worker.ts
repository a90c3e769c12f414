// The streaming test worker: SSE through ASGI, an endless generator whose state the tests read,
// a chunked reader of the request body (and one that stops reading until released), an echo.
// Shared by the streaming and memory tests.
import { type Bundle, buildBundle, decodeBundle } from '@pyworkers/isolate';

/**
 * A Python async generator `pattern(total, size)`: chunk i, byte j is (i * 7 + j) % 251, so
 * that a buffer reused too early, or a chunk lost, repeated or reordered, shows.
 */
export const PATTERN_PY = `async def pattern(total, size):
    sent, i = 0, 0
    while sent < total:
        n = min(size, total - sent)
        yield (bytes(range(i * 7 % 251, 251)) + bytes(range(251)) * (n // 251 + 2))[:n]
        sent += n
        i += 1
`;

const entry = String.raw`
import asyncio
import hashlib
import json
from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint
import asgi

gates = {}
state = {"produced": 0, "closed": False}


def gate(name):
    return gates.setdefault(name, asyncio.Event())


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream")]})
    for i in range(2):
        await send({"type": "http.response.body", "body": f"data: {i}\n\n".encode(), "more_body": True})
        await gate(f"sse{i}").wait()
    await send({"type": "http.response.body", "body": b"", "more_body": False})


${PATTERN_PY}

async def endless():
    chunk = b"x" * 16384
    try:
        while True:
            state["produced"] += 1
            yield chunk
    finally:
        state["closed"] = True


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path == "/sse":
            return await asgi.fetch(app, request, self.env)
        if path.startswith("/release/"):
            gate(path.removeprefix("/release/")).set()
            return Response("released")
        if path == "/endless":
            return Response(endless())
        if path.startswith("/pattern/"):
            total, size = map(int, path.removeprefix("/pattern/").split("/"))
            return Response(pattern(total, size))
        if path == "/state":
            return Response.json(state)
        if path == "/count":
            chunks, size = 0, 0
            async for chunk in request.stream():
                chunks += 1
                size += len(chunk)
            return Response.json({"chunks": chunks, "size": size})
        if path == "/hold":
            # Reads one chunk, then waits for /release/hold before reading the rest.
            digest, chunks, size = hashlib.sha256(), 0, 0
            async for chunk in request.stream():
                digest.update(chunk)
                chunks += 1
                size += len(chunk)
                if chunks == 1:
                    await gate("hold").wait()
            return Response.json({"chunks": chunks, "size": size, "sha256": digest.hexdigest()})
        if path == "/echo":
            return Response(request.body)
        return Response("ok")
`;

/** The streams worker's bundle (a real snapshot: seconds). */
export async function streamsBundle(): Promise<Bundle> {
  const bytes = await buildBundle({
    name: 'streams',
    mainModule: 'entry',
    files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
    vars: {},
  });
  return decodeBundle(bytes);
}
