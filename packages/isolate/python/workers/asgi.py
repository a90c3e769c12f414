"""Serve an ASGI application (FastAPI, Starlette, ...) from a worker.

``await asgi.fetch(app, request, self.env)`` runs one HTTP request through ``app`` and returns a
``workers.Response``. The app's ``scope["env"]`` is the worker's env. Request and response
bodies stream in both directions (``more_body``), so server-sent events and large uploads work
without buffering whole bodies. The lifespan protocol runs its startup
once per isolate, before the first request; apps without lifespan support are served anyway.
"""

import asyncio
import logging
from urllib.parse import unquote, urlsplit

from ._request import Request
from ._response import NULL_BODY_STATUSES, Response
from ._streams import BoundedChunks

ASGI = {"version": "3.0", "spec_version": "2.3"}
logger = logging.getLogger("asgi")
# id(app) -> (app, task giving the lifespan state or None); the app is kept so ids stay unique.
_started = {}
_lifespan_tasks = set()
# Apps still running (streaming, or finishing after their response): kept from the GC.
_app_tasks = set()


def _latin1(value):
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def request_to_scope(request, env, state=None):
    url = urlsplit(request.url)
    raw_path = url.path or "/"
    port = url.port or (443 if url.scheme == "https" else 80)
    scope = {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": str(request.method),
        "scheme": url.scheme,
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("ascii", errors="surrogateescape"),
        "query_string": url.query.encode("ascii", errors="surrogateescape"),
        "root_path": "",
        "headers": [(_latin1(k.lower()), _latin1(v)) for k, v in request.headers.items()],
        "client": None,
        "server": (url.hostname or "", port),
        "env": env,
    }
    if state is not None:
        # The spec wants each request to see a shallow copy of the lifespan state.
        scope["state"] = dict(state)
    return scope


async def _lifespan_startup(app):
    """Runs the lifespan startup; returns its state, or None when the app has no lifespan."""
    state = {}
    started = asyncio.get_running_loop().create_future()
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "lifespan.startup"}
        # Shutdown never comes: an isolate is terminated, not shut down.
        await asyncio.get_running_loop().create_future()

    async def send(message):
        if started.done():
            return
        if message["type"] == "lifespan.startup.complete":
            started.set_result(True)
        elif message["type"] == "lifespan.startup.failed":
            started.set_exception(
                RuntimeError(message.get("message") or "ASGI lifespan startup failed")
            )

    async def run():
        try:
            await app({"type": "lifespan", "asgi": ASGI, "state": state}, receive, send)
        except Exception as exc:
            if not started.done():
                # An app that raises on a lifespan scope does not support it.
                logger.debug("ASGI app does not support lifespan: %r", exc)
                started.set_result(False)
                return
            logger.exception("ASGI lifespan task failed")
        if not started.done():
            started.set_result(False)

    task = asyncio.ensure_future(run())
    _lifespan_tasks.add(task)
    supported = await started
    return state if supported else None


async def _request_events(request):
    """``http.request`` events from the body as it arrives, one chunk read ahead so that the
    last chunk carries ``more_body: False`` (a small body is one event, as from uvicorn)."""
    if request.body is None:
        yield {"type": "http.request", "body": b"", "more_body": False}
        return
    chunks = request.stream()
    current = b""
    async for chunk in chunks:
        if current:
            yield {"type": "http.request", "body": current, "more_body": True}
        current = chunk
    yield {"type": "http.request", "body": current, "more_body": False}


async def fetch(app, request, env, ctx=None):
    """Runs ``request`` through the ASGI ``app``; returns a ``workers.Response``.

    The response is returned as soon as the app sent its head and first body chunk: a body
    sent in one message arrives whole, one sent with ``more_body`` streams to the client chunk
    by chunk while the app keeps running (held back when the client reads slowly). The request
    body reaches ``receive()`` in chunks as the client sends it.
    """
    if not isinstance(request, Request):
        request = Request(request)
    entry = _started.get(id(app))
    if entry is None or entry[0] is not app:
        # One startup per app, shared by requests that arrive while it runs.
        entry = (app, asyncio.ensure_future(_lifespan_startup(app)))
        _started[id(app)] = entry
    state = await entry[1]
    if request.headers.get("upgrade", "").lower() == "websocket":
        return await _websocket(app, request, env, state)

    loop = asyncio.get_running_loop()
    events = _request_events(request)
    request_done = False
    finished = asyncio.Event()  # the response is complete, or its client went away
    answer = loop.create_future()  # ("whole", body) or ("stream", None)
    chunks = BoundedChunks()
    status = None
    headers = []

    async def receive():
        nonlocal request_done
        if not request_done:
            try:
                event = await events.__anext__()
            except StopAsyncIteration:
                event = None
            if event is not None:
                request_done = not event["more_body"]
                return event
            request_done = True
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status, headers
        kind = message["type"]
        if kind == "http.response.start":
            if status is not None:
                raise RuntimeError("ASGI app sent http.response.start twice")
            status = int(message["status"])
            headers = [
                (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", [])
            ]
        elif kind == "http.response.body":
            if status is None:
                raise RuntimeError("ASGI app sent a body before http.response.start")
            if finished.is_set():
                return
            body = bytes(message.get("body", b""))
            more = bool(message.get("more_body", False))
            if not answer.done():
                if not more:
                    finished.set()
                    answer.set_result(("whole", body))
                    return
                answer.set_result(("stream", None))
            if body:
                await chunks.put(body)
            if not more:
                finished.set()
                chunks.end()

    def app_done(task):
        if task.cancelled():
            error = RuntimeError("the ASGI app was cancelled")
        else:
            error = task.exception()
        if not answer.done():
            if error is not None:
                answer.set_exception(error)
            elif status is None:
                answer.set_exception(RuntimeError("The application did not generate a response"))
            else:
                # Returned after http.response.start without a final body: an empty body.
                answer.set_result(("whole", b""))
        elif not finished.is_set():
            # Streaming, and the app stopped before its last chunk: end (or fail) the stream.
            if error is not None:
                logger.error("ASGI app raised while streaming its response", exc_info=error)
            chunks.end(error)
        elif error is not None:
            # The response was complete: the client got it, the error goes to the log.
            logger.error("ASGI app raised after sending its response", exc_info=error)
        finished.set()

    task = asyncio.ensure_future(app(request_to_scope(request, env, state), receive, send))
    _app_tasks.add(task)
    task.add_done_callback(_app_tasks.discard)
    task.add_done_callback(app_done)
    kind, body = await answer
    out = Response.__new__(Response)
    if status in NULL_BODY_STATUSES:
        out._set(status, "", headers, None, None)
    elif kind == "whole":
        out._set(status, "", headers, body, None)
    else:
        out._set(status, "", headers, None, None, stream=_until_finished(chunks, finished))
    return out


async def _websocket(app, request, env, state):
    """An ASGI ``websocket`` scope over a WebSocketPair: ``websocket.accept`` answers 101 with
    the pair's client end; text and binary frames and the close code travel both ways."""
    from js import WebSocketPair
    from pyodide.ffi import create_proxy, to_js

    loop = asyncio.get_running_loop()
    scope = request_to_scope(request, env, state)
    scope["type"] = "websocket"
    scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
    scope.pop("method", None)
    offered = request.headers.get("sec-websocket-protocol", "")
    scope["subprotocols"] = [p.strip() for p in offered.split(",") if p.strip()]
    client, server = WebSocketPair.new().object_values()
    incoming = asyncio.Queue()
    incoming.put_nowait({"type": "websocket.connect"})
    answer = loop.create_future()
    closed = False
    proxies = []

    def on_message(event):
        data = event.data
        if isinstance(data, str):
            incoming.put_nowait({"type": "websocket.receive", "text": data})
        else:
            incoming.put_nowait({"type": "websocket.receive", "bytes": data.to_bytes()})

    def on_close(event):
        nonlocal closed
        closed = True
        incoming.put_nowait(
            {"type": "websocket.disconnect", "code": int(event.code), "reason": str(event.reason)}
        )
        for proxy in proxies:
            proxy.destroy()
        proxies.clear()

    proxies.extend([create_proxy(on_message), create_proxy(on_close)])
    server.addEventListener("message", proxies[0])
    server.addEventListener("close", proxies[1])

    async def receive():
        return await incoming.get()

    async def send(message):
        nonlocal closed
        kind = message["type"]
        if kind == "websocket.accept":
            if answer.done():
                raise RuntimeError("ASGI app sent websocket.accept twice")
            pairs = [
                (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", [])
            ]
            if message.get("subprotocol"):
                pairs.append(("sec-websocket-protocol", message["subprotocol"]))
            server.accept()
            answer.set_result(("accept", pairs))
        elif kind == "websocket.send":
            if not answer.done():
                raise RuntimeError("ASGI app sent websocket.send before websocket.accept")
            if closed:
                return
            if message.get("bytes") is not None:
                server.send(to_js(bytes(message["bytes"])))
            else:
                server.send(message.get("text") or "")
            # Not connected yet, or the host's window is full (the client reads slowly): wait,
            # as a socket write would.
            while (waiting := server.writable()) is not None:
                await waiting
        elif kind == "websocket.close":
            if not answer.done():
                answer.set_result(("deny", 403))
            elif not closed:
                closed = True
                server.close(int(message.get("code", 1000)), message.get("reason") or "")

    def app_done(task):
        nonlocal closed
        error = None if task.cancelled() else task.exception()
        if error is not None:
            logger.error("ASGI websocket app raised", exc_info=error)
        if not answer.done():
            answer.set_result(("deny", 500 if error is not None else 403))
        elif not closed:
            # The app returned without closing: close for it (1011 when it failed).
            closed = True
            server.close(1011 if error is not None else 1000, "")

    task = asyncio.ensure_future(app(scope, receive, send))
    _app_tasks.add(task)
    task.add_done_callback(_app_tasks.discard)
    task.add_done_callback(app_done)
    kind, value = await answer
    if kind == "accept":
        return Response(None, status=101, web_socket=client, headers=value)
    return Response._from_parts(value, [], b"")


async def _until_finished(chunks, finished):
    # The stream's reader is gone (done, or the client went away): the app sees http.disconnect.
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        finished.set()
        chunks.close()


def __getattr__(name):
    if name == "env":
        # FastAPI dependency giving a route the worker's env, as in Cloudflare's SDK.
        from fastapi import Depends
        from fastapi import Request as FastAPIRequest

        async def env(request: FastAPIRequest):
            return request.scope["env"]

        return Depends(env)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
