import json as _json
from http import HTTPMethod

from . import _headers


def _is_js(value, class_name):
    # A JsProxy exposes the JS object's constructor; Python objects have no such attribute.
    constructor = getattr(value, "constructor", None)
    return constructor is not None and getattr(constructor, "name", None) == class_name


def _none_if_null(value):
    # Depending on Pyodide's settings JS null arrives as None or as pyodide.ffi.jsnull.
    return None if value is None or type(value).__name__ == "JsNull" else value


def to_js_body(body):
    """A body as JS ``fetch``/``Request``/``Response`` take it (bytes are copied out of the heap)."""
    if body is None or isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray, memoryview)):
        from pyodide.ffi import to_js

        return to_js(bytes(body))
    if hasattr(body, "constructor"):
        return body
    raise TypeError(f"unsupported body type {type(body).__name__}: use str, bytes or a JS object")


def js_init(options):
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


class Request:
    """An HTTP request, backed by a real JS ``Request`` (``request.js_object``).

    ``Request(url, method=..., headers=..., body=...)`` builds one, e.g. for ``fetch``;
    the runtime wraps each incoming request in one.
    """

    __slots__ = ("_js", "_method", "_url", "_headers")

    def __init__(self, input, **options):
        if _is_js(input, "Request"):
            if options:
                raise ValueError("Expected no options when constructing Request from a js.Request")
            self._init(input)
            return
        from js import Request as JsRequest

        source = input.js_object if isinstance(input, Request) else input
        self._init(JsRequest.new(source, js_init(options)) if options else JsRequest.new(source))

    def _init(self, js_request):
        self._js = js_request
        self._method = None
        self._url = None
        self._headers = None

    @classmethod
    def _wrap(cls, js_request):
        # The runtime's per-request path: the object is known to be a JS Request.
        self = cls.__new__(cls)
        self._init(js_request)
        return self

    def __repr__(self):
        return f"Request(method={str(self.method)!r}, url={self.url!r})"

    @property
    def js_object(self):
        """The JS ``Request`` this wraps, for code that passes the request on."""
        return self._js

    @property
    def method(self):
        """The method as an ``http.HTTPMethod`` (a ``str``); an extension method stays a plain ``str``."""
        if self._method is None:
            name = self._js.method
            try:
                self._method = HTTPMethod[name]
            except KeyError:
                self._method = name
        return self._method

    @property
    def url(self):
        if self._url is None:
            self._url = self._js.url
        return self._url

    @property
    def headers(self):
        """An ``http.client.HTTPMessage``: case-insensitive ``get``, ``get_all`` for repeats."""
        if self._headers is None:
            self._headers = _headers.to_message(_headers.js_pairs(self._js.headers))
        return self._headers

    @property
    def body(self):
        """The body as a JS ``ReadableStream``, or ``None``."""
        return _none_if_null(self._js.body)

    @property
    def body_used(self):
        return bool(self._js.bodyUsed)

    @property
    def cf(self):
        """Cloudflare's edge metadata; a self-hosted request has none."""
        return None

    @property
    def redirect(self):
        return self._js.redirect

    def _raise_if_used(self):
        if self._js.bodyUsed:
            raise OSError("Body already used")

    async def buffer(self):
        self._raise_if_used()
        return await self._js.arrayBuffer()

    async def bytes(self):
        return (await self.buffer()).to_bytes()

    async def text(self):
        self._raise_if_used()
        return await self._js.text()

    async def json(self, **kwargs):
        return _json.loads(await self.text(), **kwargs)

    def clone(self):
        self._raise_if_used()
        return Request._wrap(self._js.clone())
