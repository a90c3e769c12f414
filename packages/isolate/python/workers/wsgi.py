"""Serve a WSGI application (Flask, Django, ...) from a worker.

``await wsgi.fetch(app, request, self.env)`` builds a PEP 3333 environ (the worker's env is
``environ["workers.env"]``), calls ``app`` and returns a ``workers.Response``. The request body
is read in full before the app runs (``wsgi.input`` is a ``BytesIO``) and the response body is
collected before it is returned.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from ._request import Request
from ._response import NULL_BODY_STATUSES, Response

logger = logging.getLogger("wsgi")

#: A PEP 3333 application: ``app(environ, start_response)`` returning an iterable of bytes.
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _native(value: str) -> str:
    # PEP 3333 "native strings": the URL's UTF-8 bytes carried in a latin-1 str.
    return value.encode("utf-8").decode("latin-1")


def build_environ(request: Any, env: Any, body: bytes) -> dict[str, Any]:
    url = urlsplit(request.url)
    if not url.scheme:
        raise ValueError(f"Request URL is not absolute: {request.url!r}")
    environ = {
        "REQUEST_METHOD": str(request.method),
        "SCRIPT_NAME": "",
        "PATH_INFO": _native(unquote(url.path or "/")),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "workers.env": env,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        if key not in environ:
            environ[key] = value
        elif key == "HTTP_COOKIE":
            # Cookie crumbs join with "; " (RFC 9113); a comma would end up inside a value.
            environ[key] = f"{environ[key]}; {value}"
        else:
            # Other repeated request headers fold into one comma-separated value (RFC 9110).
            environ[key] = f"{environ[key]},{value}"
    if body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def run_app(app: WSGIApp, environ: dict[str, Any]) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """Calls the WSGI app; returns (status code, reason, header pairs, body bytes)."""
    state: dict[str, Any] = {}
    written: list[bytes] = []

    def write(data):
        if "status" not in state:
            raise AssertionError("write() called before start_response()")
        written.append(bytes(data))

    def start_response(status, response_headers, exc_info=None):
        if exc_info is not None:
            try:
                if "sent" in state:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif "status" in state:
            raise AssertionError("start_response() called more than once")
        state["status"] = status
        state["headers"] = list(response_headers)
        return write

    result = app(environ, start_response)
    try:
        for chunk in result:
            if chunk:
                state["sent"] = True
                written.append(bytes(chunk))
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if "status" not in state:
        raise RuntimeError("The WSGI application did not call start_response()")
    code, _, reason = str(state["status"]).partition(" ")
    pairs = [(str(k).lower(), str(v)) for k, v in state["headers"]]
    return int(code), reason, pairs, b"".join(written)


async def fetch(app: WSGIApp, request: Any, env: Any, ctx: Any = None) -> Response:
    """Runs ``request`` through the WSGI ``app``; returns a ``workers.Response``."""
    if not isinstance(request, Request):
        request = Request(request)
    body = await request.bytes() if request.body is not None else b""
    status, reason, pairs, payload = run_app(app, build_environ(request, env, body))
    body = None if status in NULL_BODY_STATUSES else payload
    return Response._from_parts(status, pairs, body, status_text=reason)
