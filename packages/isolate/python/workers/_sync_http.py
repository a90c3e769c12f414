"""Blocking outbound HTTP for synchronous Python clients: requests, urllib3, httpx.Client and
urllib.request.

Pyodide has no sockets and Node 20 has no JSPI, so a blocking call cannot await JS ``fetch``.
Instead the isolate thread waits in ``Atomics.wait`` on a host call (``callSync``) while the
parent thread performs the request with node:http(s) and hands back the whole response. Every
header the client sets is sent as it is (User-Agent included), timeouts are the client's, and
TLS certificates are verified unless the client turned verification off.

``install()`` (run by the runtime at load) adds an import hook that patches each client's
transport when it is first imported: urllib3's Emscripten connection, httpx's
``HTTPTransport`` (and ``AsyncHTTPTransport``, over JS ``fetch``), and urllib.request's HTTP(S)
handlers.
"""

import importlib.abc
import sys

BINDING = "__pyworkers_http__"
# Without a client timeout the host call still ends: a hung server cannot block forever.
NO_TIMEOUT_WAIT_MS = 300_000


class HTTPTimeout(TimeoutError):
    """The server did not answer within the client's timeout."""


class HTTPFailure(ConnectionError):
    """The request could not be made (refused, DNS, too large...)."""


class HTTPTLSFailure(HTTPFailure):
    """The server's TLS certificate did not verify."""


def _body_bytes(body):
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    # An iterable of chunks (requests/urllib3 accept generators).
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def perform(method, url, headers, body=None, timeout=None, verify=True, decode=False):
    """One blocking request. Returns ``(status, reason, [(name, value)], body, url)``.

    ``headers`` is a list of pairs sent in order; ``timeout`` is seconds (None: none);
    ``decode`` undoes Content-Encoding (for clients that expect a decoded body).
    """
    import js
    from pyodide.ffi import to_js

    data = _body_bytes(body)
    timeout_ms = int(timeout * 1000) if timeout else None
    args = {
        "method": str(method).upper(),
        "url": str(url),
        "headers": [[str(k), str(v)] for k, v in headers],
        "body": to_js(data) if data is not None else None,
        "timeoutMs": timeout_ms,
        "verify": bool(verify),
        "decode": bool(decode),
    }
    wait_ms = timeout_ms * 4 + 5_000 if timeout_ms else NO_TIMEOUT_WAIT_MS
    js_args = to_js([args], dict_converter=js.Object.fromEntries, create_pyproxies=False)
    reply = js.pyworkersHost.callSync(BINDING, "request", js_args, wait_ms)
    if not reply.ok:
        code, message = str(reply.error.code), str(reply.error.message)
        if code in ("ERR_HTTP_TIMEOUT", "ERR_HOST_CALL_TIMEOUT"):
            raise HTTPTimeout(message)
        if code == "ERR_HTTP_TLS":
            raise HTTPTLSFailure(message)
        raise HTTPFailure(message)
    value = reply.value
    pairs = [(str(k), str(v)) for k, v in value.headers.to_py()]
    return int(value.status), str(value.reason), pairs, value.body.to_bytes(), str(value.url)


# --- urllib3 (2.x Emscripten backend; requests goes through it) ------------------------------


def _patch_urllib3_connection(module):
    from http.client import HTTPException

    from urllib3._collections import HTTPHeaderDict
    from urllib3.connection import _get_default_user_agent as _default_user_agent
    from urllib3.exceptions import ReadTimeoutError, SSLError

    base = module.EmscriptenHTTPConnection
    https = module.EmscriptenHTTPSConnection
    response_cls = module.EmscriptenResponse
    request_cls = module.EmscriptenRequest
    original_https_init = https.__init__

    def https_init(self, *args, cert_reqs=None, **kwargs):
        original_https_init(self, *args, cert_reqs=cert_reqs, **kwargs)
        # urllib3's browser backend drops cert_reqs (a browser always verifies): keep it.
        self._pyworkers_verify = cert_reqs not in ("CERT_NONE", "NONE", 0)

    def request(self, method, url, body=None, headers=None, *, chunked=False,
                preload_content=True, decode_content=True, enforce_content_length=True):
        self._closed = False
        if url.startswith("/"):
            port = f":{self.port}" if self.port is not None else ""
            url = f"{self.scheme}://{self.host}{port}{url}"
        pairs = list(headers.items()) if headers else []
        if not any(k.lower() == "user-agent" for k, _ in pairs):
            # What urllib3's socket connection sends when the caller set none.
            pairs.append(("User-Agent", _default_user_agent()))
        self._response = None
        try:
            status, _reason, got, data, _url = perform(
                method, url, pairs, body,
                timeout=self.timeout or None,
                verify=getattr(self, "_pyworkers_verify", True),
                decode=True,
            )
        except HTTPTimeout as exc:
            # What a socket read timeout raises: requests turns it into ReadTimeout.
            raise ReadTimeoutError(None, url, str(exc)) from exc
        except HTTPTLSFailure as exc:
            raise SSLError(str(exc)) from exc
        except HTTPFailure as exc:
            raise HTTPException(str(exc)) from exc
        header_dict = HTTPHeaderDict()
        for name, value in got:
            header_dict.add(name, value)
        if header_dict.get("content-encoding", "").strip().lower() == "zstd":
            # The host decodes gzip/deflate/br; zstd (which urllib3 asks for on 3.14) here.
            from compression import zstd

            data = zstd.decompress(data)
        req = request_cls(method=method, url=url, headers=dict(pairs), body=body,
                          timeout=self.timeout or 0, decode_content=decode_content)
        self._response = response_cls(status_code=status, headers=header_dict, body=data,
                                      request=req)

    https.__init__ = https_init
    base.request = request


# --- httpx.Client ----------------------------------------------------------------------------


def _patch_httpx_transport(module):
    import httpx

    transport = module.HTTPTransport
    original_init = transport.__init__

    def init(self, verify=True, *args, **kwargs):
        original_init(self, verify, *args, **kwargs)
        self._pyworkers_verify = verify is not False

    def handle_request(self, request):
        timeouts = request.extensions.get("timeout", {})
        timeout = timeouts.get("read") or timeouts.get("connect")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            status, reason, got, data, _url = perform(
                request.method, str(request.url), headers, request.read(),
                timeout=timeout, verify=getattr(self, "_pyworkers_verify", True),
            )
        except HTTPTimeout as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except HTTPFailure as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        return httpx.Response(
            status,
            headers=got,
            content=data,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode("latin-1")},
        )

    transport.__init__ = init
    transport.handle_request = handle_request
    _patch_httpx_async_transport(module.AsyncHTTPTransport)


def _patch_httpx_async_transport(transport):
    """httpx.AsyncClient over the isolate's JS ``fetch`` (no thread blocked while it waits)."""
    import asyncio

    import httpx

    async def handle_async_request(self, request):
        from ._fetch import fetch

        timeouts = request.extensions.get("timeout", {})
        timeout = timeouts.get("read") or timeouts.get("connect")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        body = await request.aread()
        options = {"method": request.method, "headers": headers, "redirect": "manual"}
        if body:
            options["body"] = body
        try:
            call = fetch(str(request.url), **options)
            response = await (asyncio.wait_for(call, timeout) if timeout else call)
            data = await response.bytes()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        # JS fetch already undid Content-Encoding: httpx must not decode again.
        pairs = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-encoding", "content-length")
        ]
        return httpx.Response(response.status, headers=pairs, content=data, request=request)

    transport.handle_async_request = handle_async_request


# --- urllib.request --------------------------------------------------------------------------


def _patch_urllib_request(module):
    import io
    from email.message import Message
    from http.client import HTTPMessage
    from urllib.error import URLError
    from urllib.response import addinfourl

    def open_with(handler_cls, scheme):
        def do_open(self, req):
            headers = dict(req.unredirected_hdrs)
            headers.update(req.headers)
            if "Host" not in headers and req.host:
                headers["Host"] = req.host
            if req.data is not None and "Content-type" not in headers:
                headers["Content-type"] = "application/x-www-form-urlencoded"
            try:
                status, reason, got, data, url = perform(
                    req.get_method(), req.full_url, list(headers.items()), req.data,
                    timeout=req.timeout if isinstance(req.timeout, (int, float)) else None,
                    verify=getattr(self, "_context", None) is None
                    or getattr(self._context, "verify_mode", 2) != 0,
                    decode=False,
                )
            except (HTTPTimeout, HTTPFailure) as exc:
                raise URLError(exc) from exc
            message = HTTPMessage()
            for name, value in got:
                Message.__setitem__(message, name, value)
            response = addinfourl(io.BytesIO(data), message, url, status)
            response.msg = reason
            response.reason = reason
            return response

        do_open.__name__ = f"{scheme}_open"
        setattr(handler_cls, f"{scheme}_open", do_open)

    open_with(module.HTTPHandler, "http")
    if hasattr(module, "HTTPSHandler"):
        open_with(module.HTTPSHandler, "https")


# --- the import hook -------------------------------------------------------------------------

_PATCHES = {
    "urllib3.contrib.emscripten.connection": _patch_urllib3_connection,
    "httpx._transports.default": _patch_httpx_transport,
    "urllib.request": _patch_urllib_request,
}


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader, patch):
        self._loader = loader
        self._patch = patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._patch(module)


class _PatchFinder(importlib.abc.MetaPathFinder):
    """Patches the transports above right after their module runs, whoever imports it."""

    def find_spec(self, fullname, path, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, patch)
                return spec
        return None


def install():
    """Installs the import hook; modules already imported are patched at once."""
    if any(isinstance(f, _PatchFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _PatchFinder())
    for name, patch in _PATCHES.items():
        module = sys.modules.get(name)
        if module is not None:
            patch(module)
