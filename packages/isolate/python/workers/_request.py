from __future__ import annotations

import json as _json
from http import HTTPMethod
from typing import TYPE_CHECKING, Any

from . import _headers

if TYPE_CHECKING:
    from http.client import HTTPMessage

    from ._blob import Blob
    from ._formdata import FormData


def _is_js(value: Any, class_name: str) -> bool:
    # A JsProxy exposes the JS object's constructor; Python objects have no such attribute.
    constructor = getattr(value, "constructor", None)
    return constructor is not None and getattr(constructor, "name", None) == class_name


def _none_if_null(value: Any) -> Any:
    # Depending on Pyodide's settings JS null arrives as None or as pyodide.ffi.jsnull.
    return None if value is None or type(value).__name__ == "JsNull" else value


def to_js_body(body: Any) -> Any:
    """A body as JS ``fetch``/``Request``/``Response`` take it (bytes are copied out of the
    heap)."""
    if body is None or isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray, memoryview)):
        from pyodide.ffi import to_js

        return to_js(bytes(body))
    if hasattr(body, "constructor"):
        return body
    from ._blob import Blob
    from ._formdata import FormData

    if isinstance(body, (Blob, FormData)):
        return body.js_object
    raise TypeError(
        f"unsupported body type {type(body).__name__}: "
        "use str, bytes, FormData, Blob or a JS object"
    )


async def _js_call(method: Any, name: str) -> Any:
    """Awaits a JS body method, turning its JS TypeError into a Python one (as Cloudflare)."""
    from pyodide.ffi import JsException

    try:
        return await method()
    except JsException as exc:
        if getattr(exc, "name", "") == "TypeError":
            raise TypeError(f"{name}(): {exc.message}") from None
        raise


def js_init(options: dict[str, Any]) -> Any:
    """Turn ``fetch``/``Request`` keyword options into a JS ``RequestInit`` object."""
    from js import Object
    from pyodide.ffi import to_js

    init = {}
    for key, value in options.items():
        if key == "method":
            value = value.value if isinstance(value, HTTPMethod) else str(value).upper()
        elif key == "headers":
            value = _headers.to_js_headers(_headers.to_pairs(value))
        elif key == "body":
            value = to_js_body(value)
        init[key] = value
    return to_js(init, dict_converter=Object.fromEntries, create_pyproxies=False)


def _refuse_get_body(input: Any, options: dict[str, Any]) -> None:
    # The Fetch standard's rule, which Cloudflare enforces too; said in Python terms here
    # instead of as a JsException from the Request constructor.
    if options.get("body") is None:
        return
    method = options.get("method")
    if method is None:
        inherits = isinstance(input, Request) or _is_js(input, "Request")
        method = input.method if inherits else "GET"
    name = method.value if isinstance(method, HTTPMethod) else str(method).upper()
    if name in ("GET", "HEAD"):
        raise TypeError(
            f"a {name} request cannot have a body; use method='POST' (or PUT, PATCH) "
            "to send one, or put the data in the URL's query string"
        )


class Request:
    """An HTTP request, backed by a real JS ``Request`` (``request.js_object``).

    ``Request(url, method=..., headers=..., body=...)`` builds one, e.g. for ``fetch``;
    the runtime wraps each incoming request in one.
    """

    __slots__ = ("_jsr", "_lazy", "_method", "_url", "_headers")

    def __init__(self, input: str | Request | Any, **options: Any) -> None:
        if _is_js(input, "Request"):
            if options:
                raise ValueError("Expected no options when constructing Request from a js.Request")
            self._init(input)
            return
        from js import Request as JsRequest

        _refuse_get_body(input, options)
        source = input.js_object if isinstance(input, Request) else input
        self._init(JsRequest.new(source, js_init(options)) if options else JsRequest.new(source))

    def _init(self, js_request):
        self._jsr = js_request
        self._lazy = None
        self._method = None
        self._url = None
        self._headers = None

    @classmethod
    def _wrap(cls, js_request):
        # The runtime's per-request path: the object is known to be a JS Request.
        self = cls.__new__(cls)
        self._init(js_request)
        return self

    @classmethod
    def _wrap_lazy(cls, incoming):
        # The runtime's per-request path: ``incoming`` carries the method and URL, and builds
        # the JS Request (``incoming.request()``) only when something needs it: a handler that
        # reads neither headers nor body (most answers) never pays for one.
        self = cls.__new__(cls)
        self._jsr = None
        self._lazy = incoming
        self._method = None
        self._url = None
        self._headers = None
        return self

    @property
    def _js(self) -> Any:
        js = self._jsr
        if js is None:
            js = self._jsr = self._lazy.request()
            self._lazy = None
        return js

    def __repr__(self) -> str:
        return f"Request(method={str(self.method)!r}, url={self.url!r})"

    @property
    def js_object(self) -> Any:
        """The JS ``Request`` this wraps, for code that passes the request on."""
        return self._js

    @property
    def method(self) -> HTTPMethod | str:
        """The method as an ``http.HTTPMethod`` (a ``str``); an extension method stays a plain
        ``str``."""
        if self._method is None:
            name = self._js.method if self._lazy is None else self._lazy.method
            try:
                self._method = HTTPMethod[name]
            except KeyError:
                self._method = name
        return self._method

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._js.url if self._lazy is None else self._lazy.url
        return self._url

    @property
    def headers(self) -> HTTPMessage:
        """An ``http.client.HTTPMessage``: case-insensitive ``get``, ``get_all`` for repeats."""
        if self._headers is None:
            self._headers = _headers.to_message(_headers.js_pairs(self._js.headers))
        return self._headers

    @property
    def body(self) -> Any:
        """The body as a JS ``ReadableStream``, or ``None``."""
        return _none_if_null(self._js.body)

    @property
    def body_used(self) -> bool:
        return bool(self._js.bodyUsed)

    @property
    def cf(self) -> None:
        """Cloudflare's edge metadata; a self-hosted request has none."""
        return None

    @property
    def redirect(self) -> str:
        return self._js.redirect

    def _raise_if_used(self):
        if self._js.bodyUsed:
            raise OSError("Body already used")

    async def stream(self):
        """The body in chunks (``bytes``) as the client sends them, without buffering it whole:
        ``async for chunk in request.stream(): ...``. Reading slowly slows the client down."""
        body = self.body
        if body is None:
            return
        self._raise_if_used()
        reader = body.getReader()
        import js

        # Each chunk's buffer goes back to the host once copied (isolate: buffer-pool.ts).
        recycle = getattr(getattr(js, "pyworkersHost", None), "recycle", None)
        try:
            while True:
                result = await reader.read()
                if result.done:
                    return
                value = result.value
                data = value.to_bytes()
                if recycle is not None:
                    recycle(body, value)
                yield data
        finally:
            reader.releaseLock()

    async def buffer(self) -> Any:
        self._raise_if_used()
        return await self._js.arrayBuffer()

    async def bytes(self) -> bytes:
        return (await self.buffer()).to_bytes()

    async def text(self) -> str:
        self._raise_if_used()
        return await self._js.text()

    async def json(self, **kwargs: Any) -> Any:
        return _json.loads(await self.text(), **kwargs)

    async def form_data(self) -> FormData:
        """The body parsed as a form (``multipart/form-data`` or urlencoded): a ``FormData``
        whose uploads are ``File`` objects."""
        from ._formdata import FormData

        self._raise_if_used()
        return FormData(await _js_call(self._js.formData, "form_data"))

    # The JS spelling, which older Cloudflare examples use.
    formData = form_data

    async def blob(self) -> Blob:
        """The body as a ``Blob`` carrying the request's content type."""
        from ._blob import Blob

        self._raise_if_used()
        return Blob._wrap(await self._js.blob())

    def clone(self) -> Request:
        self._raise_if_used()
        return Request._wrap(self._js.clone())
