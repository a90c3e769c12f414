"""Serve an ASGI application (FastAPI, Starlette, ...) from a worker.

``await asgi.fetch(app, request, self.env)`` runs one HTTP request through ``app`` and returns a
``workers.Response``. The app's ``scope["env"]`` is the worker's env. The request body is read
in full first and the response is buffered until the app sends its last body chunk, so
endless streams (server-sent events) are not supported. The lifespan protocol runs its startup
once per isolate, before the first request; apps without lifespan support are served anyway.
"""

import asyncio
import logging
from urllib.parse import unquote, urlsplit

from ._request import Request
from ._response import NULL_BODY_STATUSES, Response

ASGI = {"version": "3.0", "spec_version": "2.3"}
logger = logging.getLogger("asgi")
# id(app) -> (app, task giving the lifespan state or None); the app is kept so ids stay unique.
_started = {}
_lifespan_tasks = set()


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


async def fetch(app, request, env, ctx=None):
    """Runs ``request`` through the ASGI ``app``; returns a ``workers.Response``."""
    if not isinstance(request, Request):
        request = Request(request)
    entry = _started.get(id(app))
    if entry is None or entry[0] is not app:
        # One startup per app, shared by requests that arrive while it runs.
        entry = (app, asyncio.ensure_future(_lifespan_startup(app)))
        _started[id(app)] = entry
    state = await entry[1]

    body = await request.bytes() if request.body is not None else b""
    received = False
    done = asyncio.Event()
    status = None
    headers = []
    chunks = []

    async def receive():
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
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
            if done.is_set():
                return
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(request_to_scope(request, env, state), receive, send)
    except Exception:
        if not done.is_set():
            raise
        # The response was complete: the client gets it, the error goes to the log.
        logger.exception("ASGI app raised after sending its response")
    finally:
        done.set()
    if status is None:
        raise RuntimeError("The application did not generate a response")
    payload = None if status in NULL_BODY_STATUSES else b"".join(chunks)
    return Response._from_parts(status, headers, payload)


def __getattr__(name):
    if name == "env":
        # FastAPI dependency giving a route the worker's env, as in Cloudflare's SDK.
        from fastapi import Depends
        from fastapi import Request as FastAPIRequest

        async def env(request: FastAPIRequest):
            return request.scope["env"]

        return Depends(env)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
