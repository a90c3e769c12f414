from __future__ import annotations

import json as _json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from . import _headers
from ._do_gate import outgoing
from ._request import _is_js, _js_call, _none_if_null, to_js_body
from ._streams import (
    StreamedResponse,
    WebSocketUpgrade,
    is_stream_body,
    iter_bytes,
    to_readable_stream,
)

if TYPE_CHECKING:
    from http.client import HTTPMessage

    from ._blob import Blob
    from ._formdata import FormData

# Statuses whose responses carry no body (the Fetch standard's "null body status").
NULL_BODY_STATUSES = frozenset({101, 103, 204, 205, 304})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The content type a JS Response gives a string body; Cloudflare's SDK inherits it.
TEXT_CONTENT_TYPE = "text/plain;charset=UTF-8"


def _status_code(status: HTTPStatus | int) -> int:
    return status.value if isinstance(status, HTTPStatus) else int(status)


class FetchResponse:
    """The read side of a response: status, headers, and the body as text, JSON or bytes.

    Backed either by Python values (a ``Response`` a handler built) or by a JS ``Response``
    (what ``fetch`` returned); ``js_object`` gives the JS one either way.
    """

    __slots__ = (
        "_status", "_status_text", "_pairs", "_body", "_js", "_message", "_used", "_stream",
        "_web_socket", "_remote",
    )

    def _set(self, status, status_text, pairs, body, js_response, stream=None):
        self._remote = False  # the body comes over the network (see _read)
        self._stream = stream
        self._web_socket = None
        self._status = status
        self._status_text = status_text
        self._pairs = pairs
        self._body = body
        self._js = js_response
        self._message = None
        self._used = False

    @classmethod
    def _from_js(cls, js_response):
        self = cls.__new__(cls)
        self._set(int(js_response.status), js_response.statusText, None, None, js_response)
        self._remote = True
        return self

    def _read(self, pending):
        """Awaits a read of a fetched body with a Durable Object's input gate open, as for the
        fetch itself: its bytes come over the network (a body built here is not I/O)."""
        return outgoing(pending) if self._remote else pending

    @property
    def status(self) -> int:
        return self._status

    @property
    def status_text(self) -> str:
        return self._status_text

    @property
    def web_socket(self) -> Any:
        """The WebSocket of a 101 answer (``webSocket`` in JS), or None."""
        return self._web_socket

    webSocket = web_socket

    @property
    def ok(self) -> bool:
        return 200 <= self._status <= 299

    @property
    def url(self) -> str:
        return "" if self._js is None else self._js.url

    @property
    def redirected(self) -> bool:
        return False if self._js is None else bool(self._js.redirected)

    def _header_pairs(self):
        if self._pairs is None:
            self._pairs = _headers.js_pairs(self._js.headers)
        return self._pairs

    @property
    def headers(self) -> HTTPMessage:
        """An ``http.client.HTTPMessage``: case-insensitive ``get``, ``get_all`` for repeats."""
        if self._message is None:
            self._message = _headers.to_message(self._header_pairs())
        return self._message

    @property
    def body(self) -> Any:
        """The body as a JS ``ReadableStream`` (or ``None``), like Cloudflare's."""
        return _none_if_null(self.js_object.body)

    @property
    def body_used(self) -> bool:
        return self._used

    @property
    def js_object(self) -> Any:
        """The JS ``Response``; built on first use for a response made in Python."""
        if self._js is None:
            if self._stream is not None:
                stream, self._stream = self._stream, None
                self._js = self._build_js(to_readable_stream(stream))
            else:
                self._js = self._build_js(to_js_body(self._body))
        return self._js

    def _build_js(self, js_body):
        from js import Object
        from js import Response as JsResponse
        from pyodide.ffi import to_js

        options = {"status": self._status, "headers": _headers.to_js_headers(self._pairs)}
        if self._status_text:
            options["statusText"] = self._status_text
        init = to_js(options, dict_converter=Object.fromEntries, create_pyproxies=False)
        return JsResponse.new(js_body, init)

    async def bytes(self) -> bytes:
        if self._used:
            raise OSError("Body already used")
        self._used = True
        if self._stream is not None:
            stream, self._stream = self._stream, None
            self._body = b"".join([chunk async for chunk in iter_bytes(stream)])
        elif self._js is not None and self._body is None:
            self._body = (await self._read(self._js.arrayBuffer())).to_bytes()
        return self._body or b""

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    async def buffer(self) -> Any:
        from pyodide.ffi import to_js

        return to_js(await self.bytes()).buffer

    def json(self, *args: Any, **kwargs: Any) -> Any:
        # Called on an instance: the body parsed as JSON (awaitable), as for a fetch() result.
        # Called on the class, Response.json(data): a JSON response (Cloudflare allows both).
        if isinstance(self, FetchResponse):
            return self._parse_json(**kwargs)
        return Response.from_json(self, *args, **kwargs)

    async def _parse_json(self, **kwargs):
        return _json.loads(await self.bytes(), **kwargs)

    async def iter_bytes(self):
        """The body in chunks as they arrive: ``async for chunk in response.iter_bytes()``."""
        if self._used:
            raise OSError("Body already used")
        self._used = True
        if self._stream is not None:
            stream, self._stream = self._stream, None
            async for chunk in iter_bytes(stream):
                yield chunk
            return
        if self._js is not None and self._body is None:
            body = _none_if_null(self._js.body)
            if body is None:
                return
            reader = body.getReader()
            try:
                while True:
                    result = await self._read(reader.read())
                    if result.done:
                        return
                    yield result.value.to_bytes()
            finally:
                reader.releaseLock()
        if self._body:
            yield self._body

    async def form_data(self) -> FormData:
        """The body parsed as a form: a ``FormData`` (uploads are ``File`` objects)."""
        from ._formdata import FormData

        return FormData(await self._read(_js_call(self._take_js().formData, "form_data")))

    formData = form_data

    async def blob(self) -> Blob:
        """The body as a ``Blob`` carrying the response's content type."""
        from ._blob import Blob

        return Blob._wrap(await self._read(self._take_js().blob()))

    def _take_js(self):
        if self._used:
            raise OSError("Body already used")
        self._used = True
        return self.js_object

    def _encode(self):
        """What the runtime sends to the host: a JS Response, (status, pairs, bytes), or a
        StreamedResponse the worker thread pulls from, or a WebSocketUpgrade (status 101)."""
        if self._web_socket is not None:
            socket = self._web_socket
            remote = type(socket).__name__ == "RemoteWebSocket"
            ref = socket.ref if remote else None
            # A Durable Object's socket goes as its ref: the router connects the client there.
            return WebSocketUpgrade(self._header_pairs(), socket if ref is None else ref)
        if self._stream is not None:
            return StreamedResponse(self._status, self._header_pairs(), self._stream)
        if self._body is None and self._js is not None:
            return self._js
        return (self._status, self._header_pairs(), self._body or b"")


def _wrapped_js_body(body):
    from ._blob import Blob
    from ._formdata import FormData

    if isinstance(body, (FormData, Blob)):
        # JS sets the content type: multipart/form-data with a boundary, or the Blob's type.
        return body.js_object
    raise TypeError(
        f"Unsupported type in Response: {type(body).__name__} "
        "(use str, bytes, FormData, Blob or a JS body such as a ReadableStream)"
    )


class Response(FetchResponse):
    """An HTTP response, as Cloudflare's ``workers.Response``.

    ``body`` is ``str``, ``bytes``, ``FormData``, ``Blob``, a JS body (``ReadableStream``,
    typed array, ...) or a JS ``Response`` to wrap.

    ``Response("hi")`` is ``text/plain;charset=UTF-8`` like a JS Response; ``bytes`` bodies get
    no content type; an async iterator (or generator) of bytes/str, or a JS ``ReadableStream``,
    is streamed to the client as it yields; ``headers`` is a dict or a list of pairs (repeats
    such as ``set-cookie`` are kept). ``Response.json(obj)`` and ``Response.redirect(url)``
    build the usual ones.
    """

    __slots__ = ()

    def __init__(
        self,
        body: Any = None,
        status: HTTPStatus | int | None = None,
        status_text: str = "",
        headers: _headers.HeadersInit = None,
        web_socket: Any = None,
    ) -> None:
        if web_socket is not None:
            # Cloudflare's upgrade answer: Response(None, status=101, web_socket=client).
            code = 101 if status is None else _status_code(status)
            if code != 101 or body is not None:
                raise ValueError(
                    "a Response with web_socket= has status 101 and no body "
                    "(Response(None, status=101, web_socket=client))"
                )
            self._set(101, status_text, _headers.to_pairs(headers), None, None)
            self._web_socket = web_socket
            return
        if _is_js(body, "Response"):
            if status is not None or status_text or headers is not None:
                raise ValueError(
                    "Expected no options when constructing Response from a js.Response"
                )
            self._set(int(body.status), body.statusText, None, None, body)
            return
        code = 200 if status is None else _status_code(status)
        if not 200 <= code <= 599:
            raise ValueError(f"Response status must be in the range 200 to 599, got {code}")
        pairs = _headers.to_pairs(headers)
        if body is not None and code in NULL_BODY_STATUSES:
            raise TypeError(f"a Response with status {code} cannot have a body")
        if isinstance(body, str):
            if not _headers.has(pairs, "content-type"):
                pairs.append(("content-type", TEXT_CONTENT_TYPE))
            body = body.encode("utf-8")
        elif isinstance(body, (bytes, bytearray, memoryview)):
            body = bytes(body)
        elif body is not None and is_stream_body(body):
            self._set(code, status_text, pairs, None, None, stream=body)
            return
        elif body is not None:
            if not hasattr(body, "constructor"):
                body = _wrapped_js_body(body)
            # A JS body (ReadableStream, Blob, typed array, ...): let a JS Response own it.
            # _build_js reads status and pairs from self; headers are then read back from JS.
            self._set(code, status_text, pairs, None, None)
            self._js = self._build_js(body)
            self._pairs = None
            return
        self._set(code, status_text, pairs, body, None)

    @classmethod
    def _from_parts(cls, status, pairs, body, status_text=""):
        """A response from parts the caller already checked (the ASGI/WSGI adapters, redirects):
        ``pairs`` lower-cased header pairs, ``body`` bytes (``None`` for a null-body status)."""
        self = cls.__new__(cls)
        self._set(status, status_text, pairs, body, None)
        return self

    def __repr__(self) -> str:
        parts = [f"status={self._status}"]
        content_type = self.headers.get("content-type")
        if content_type:
            parts.append(f"content_type={content_type!r}")
        return f"Response({', '.join(parts)})"

    @staticmethod
    def from_json(
        data: Any,
        status: HTTPStatus | int = HTTPStatus.OK,
        status_text: str = "",
        headers: _headers.HeadersInit = None,
    ) -> Response:
        """A JSON response (``application/json`` unless ``headers`` sets a content type)."""
        pairs = _headers.to_pairs(headers)
        if not _headers.has(pairs, "content-type"):
            pairs.append(("content-type", "application/json"))
        return Response(_json.dumps(data), status=status, status_text=status_text, headers=pairs)

    @staticmethod
    def redirect(url: str, status: HTTPStatus | int = HTTPStatus.FOUND) -> Response:
        """A redirect to an absolute ``url``; ``status`` is 301, 302 (default), 303, 307 or 308."""
        code = _status_code(status)
        if code not in REDIRECT_STATUSES:
            raise ValueError(f"redirect status must be one of 301, 302, 303, 307, 308, got {code}")
        from js import URL

        try:
            location = URL.new(str(url)).href
        except Exception:
            raise TypeError(f"redirect URL {url!r} is not an absolute URL") from None
        return Response._from_parts(code, [("location", location)], b"")
