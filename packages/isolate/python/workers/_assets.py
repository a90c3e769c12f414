"""``env.ASSETS``: the worker's static assets, as Cloudflare's assets ``Fetcher``."""

from ._bindings import call
from ._request import Request, _is_js
from ._response import Response


def _request_parts(request, init):
    if isinstance(request, str):
        method = str(init.get("method", "GET")).upper()
        headers = init.get("headers") or {}
        pairs = list(headers.items()) if isinstance(headers, dict) else [tuple(p) for p in headers]
        return method, request, pairs
    if isinstance(request, Request):
        request = request.js_object
    if _is_js(request, "Request"):
        pairs = [[str(k), str(v)] for k, v in request.headers.entries()]
        return str(request.method), str(request.url), pairs
    if _is_js(request, "URL"):
        return "GET", str(request.href), []
    raise TypeError(
        f"ASSETS.fetch() takes a Request, a URL or a str, got {type(request).__name__}"
    )


class Fetcher:
    """``await env.ASSETS.fetch(request)``: the asset the request names, as the router would
    serve it (content type, ETag, 304, ranges, html_handling and not_found_handling)."""

    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"Fetcher({self._name!r})"

    async def fetch(self, request, **init):
        method, url, pairs = _request_parts(request, init)
        got = await call(
            self._name, "fetch", {"method": method, "url": url, "headers": [list(p) for p in pairs]}
        )
        status = int(got["status"])
        body = got.get("body")
        headers = [tuple(h) for h in got.get("headers", [])]
        if status in (101, 103, 204, 205, 304):
            body = None
        return Response(body if body is not None else None, status=status, headers=headers)
