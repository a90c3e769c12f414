"""An RPC answer that is a Response whose body streams: a Durable Object's ``fetch`` (through
``stub.fetch``) or a service entrypoint's ``fetch`` (a binding that names an ``entrypoint``).

The head (status, headers) crosses as the RPC value, ``{"__rpc__": "Response", ...}`` with
``body`` None, and the body as a stream the worker thread pulls chunk by chunk
(``event-bridge.ts``), as a fetch handler's streamed response does: the body is not read whole
in this isolate first. The host keeps it where the caller reads it from
(``workers._remote_body``). Pure Python: importable under CPython.
"""

from __future__ import annotations

from typing import Any

TAG = "__rpc__"


class StreamedValue:
    """What an object's or entrypoint's ``fetch`` answered: its head, and its body to stream."""

    __slots__ = ("head", "body")

    def __init__(self, head: dict[str, Any], body: Any) -> None:
        self.head = head
        self.body = body


class StreamedEvent:
    """An event's answer (``result``: the tuple ``dispatch`` returns) whose RPC value's body
    streams: ``body`` is a ``StreamedResponse`` or a JS ``Response`` the worker thread reads."""

    __slots__ = ("result", "body")

    def __init__(self, result: tuple[Any, ...], body: Any) -> None:
        self.result = result
        self.body = body


def streamed(value: Any) -> StreamedValue | None:
    """``value`` as a :class:`StreamedValue` when it is a Response whose body is a stream (an
    async iterator or generator, a JS ``ReadableStream``, a service fetch's body still coming);
    None for anything else (a body in memory, a WebSocket upgrade), which converts as before."""
    from ._response import FetchResponse

    if not isinstance(value, FetchResponse) or value._web_socket is not None:
        return None
    if value._stream is None and not (value._body is None and value._js is not None):
        return None
    try:
        from pyodide.ffi import jsnull
    except ImportError:  # pragma: no cover - CPython
        jsnull = None
    head = {
        TAG: "Response",
        "status": value.status,
        "statusText": value.status_text,
        "headers": [list(pair) for pair in value._header_pairs()],
        "body": jsnull,
    }
    return StreamedValue(head, value._encode())


def answer(value: Any) -> Any:
    """The ``("ok", result)`` answer of an RPC event whose value is ``value``: a
    :class:`StreamedEvent` when ``value`` is a :class:`StreamedValue`."""
    if isinstance(value, StreamedValue):
        result = {"type": "rpc", "outcome": "ok", "value": value.head}
        return StreamedEvent(("ok", result), value.body)
    return ("ok", {"type": "rpc", "outcome": "ok", "value": value})
