"""Durable Object WebSockets, the hibernation API: ``self.ctx.acceptWebSocket(server, tags)``.

The host where the object lives holds an accepted socket, not this isolate: what the client
sends reaches the object as an event, ``webSocketMessage(self, ws, message)`` (``str`` or
``bytes``), and its close as ``webSocketClose(self, ws, code, reason, was_clean)`` (also when
the object closed the socket itself, with the code it closed with)
(``webSocketError(self, ws, error)`` when the connection failed; the snake_case names
``web_socket_message`` ... work too). Between events the object may be evicted with its
sockets open; the next message makes a new instance (its constructor runs, and
``ctx.getWebSockets()`` already lists the open sockets with their tags and attachments) and
then delivers the message. ``ctx.setWebSocketAutoResponse(pair)`` has the host answer one
exact text message without waking the object.

Sends and closes are host calls nobody awaits, in call order, as ``ws.send()`` is synchronous
in JS.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from . import _bindings
from ._do_storage import _ABSENT, _cached, _keep, _value

try:  # Inside Pyodide; under CPython only the pure parts are usable.
    from pyodide.ffi import JsProxy, create_proxy, to_js
except ImportError:  # pragma: no cover - CPython
    JsProxy = create_proxy = to_js = None

BINDING = "__pyworkers_do__"
MAX_TAGS = 10
MAX_TAG_LENGTH = 256
# The largest attachment a socket keeps, structured-clone serialized (workerd's limit, as
# router/src/objects/object-sockets.ts checks it again on the host).
MAX_ATTACHMENT_BYTES = 16 * 1024

CONNECTING, OPEN, CLOSING, CLOSED = 0, 1, 2, 3

# Socket id -> its socket object in this isolate (the JS end's attachments are kept there).
_by_sid: dict[str, HibernatableWebSocket] = {}
_store_installed = False


def _host() -> Any:
    return _bindings._host(BINDING, "acceptWebSocket")


def _payload(message: Any) -> Any:
    if type(message) is str:
        return message
    if isinstance(message, (bytes, bytearray, memoryview)):
        return to_js(bytes(message)) if to_js is not None else bytes(message)
    if JsProxy is not None and isinstance(message, JsProxy):
        return message  # an ArrayBuffer or typed array
    raise TypeError(f"WebSocket.send() takes a str or bytes, got {type(message).__name__}")


class HibernatableWebSocket:
    """A socket the object accepted, as events and ``ctx.getWebSockets()`` give it:
    ``send``, ``close``, ``serializeAttachment`` / ``deserializeAttachment`` (snake_case too),
    ``ready_state``. Two of them are equal when they are the same connection."""

    __slots__ = ("_sockets", "_sid", "_tags", "_attachment", "ready_state")

    def __init__(
        self, sockets: WebSockets, sid: str, tags: list[str], attachment: Any = _ABSENT
    ) -> None:
        self._sockets = sockets
        self._sid = sid
        self._tags = tags
        self._attachment = attachment
        self.ready_state = OPEN

    @property
    def readyState(self) -> int:  # noqa: N802 - Cloudflare's JS spelling
        return self.ready_state

    def accept(self) -> None:
        """Nothing to do: the object accepted it with ``ctx.acceptWebSocket``."""

    def send(self, message: Any) -> None:
        if self.ready_state != OPEN:
            raise RuntimeError("WebSocket.send(): the WebSocket is closed")
        self._sockets._post("wsSend", self._sid, _payload(message))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.ready_state >= CLOSING:
            return
        self.ready_state = CLOSED
        self._sockets._post("wsClose", self._sid, int(code), str(reason))
        self._sockets._forget(self)

    def serialize_attachment(self, value: Any) -> None:
        """Keeps a copy of ``value`` with the socket (it survives eviction): structured-clone
        data, as ``ctx.storage`` stores (dict, list, str, int, float, bool, None, bytes,
        datetime)."""
        js_value = None if value is None else _value(value)  # refuses what cannot be kept
        kind = type(value)
        small = value is None or kind is bool or kind is int or kind is float
        if not small and not (kind is str and len(value) * 3 < MAX_ATTACHMENT_BYTES):
            size = int(_host().serializedSize(js_value))
            if size > MAX_ATTACHMENT_BYTES:
                raise ValueError(
                    f"serializeAttachment(): the value is {size} bytes serialized, more than "
                    f"the limit of {MAX_ATTACHMENT_BYTES}; keep a key (an id) in the attachment "
                    "and the rest in self.ctx.storage"
                )
        kept = _keep(value) if value is not None else None
        self._attachment = _ABSENT if kept is _ABSENT else kept
        self._sockets._post("wsAttachment", self._sid, js_value)

    def deserialize_attachment(self) -> Any:
        """A copy of what ``serialize_attachment`` kept, or ``None``."""
        return None if self._attachment is _ABSENT else _cached(self._attachment)

    serializeAttachment = serialize_attachment
    deserializeAttachment = deserialize_attachment

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HibernatableWebSocket) and other._sid == self._sid

    def __hash__(self) -> int:
        return hash(self._sid)

    def __repr__(self) -> str:
        return f"HibernatableWebSocket({self._sid[:8]}, tags={self._tags})"


class WebSocketRequestResponsePair:
    """What ``ctx.setWebSocketAutoResponse(pair)`` takes (``js.WebSocketRequestResponsePair``
    too)."""

    __slots__ = ("request", "response")

    def __init__(self, request: str, response: str) -> None:
        if not isinstance(request, str) or not isinstance(response, str):
            raise TypeError("WebSocketRequestResponsePair(request, response) takes two strings")
        self.request = request
        self.response = response

    def __repr__(self) -> str:
        return f"WebSocketRequestResponsePair({self.request!r}, {self.response!r})"


def _tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if JsProxy is not None and isinstance(tags, JsProxy):
        tags = tags.to_py()
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)):
        raise TypeError(f"acceptWebSocket() tags must be a list of str, got {type(tags).__name__}")
    out = [str(t) for t in tags]
    if len(out) > MAX_TAGS:
        raise ValueError(f"acceptWebSocket(): {len(out)} tags, more than the limit of {MAX_TAGS}")
    for tag in out:
        if not tag or len(tag) > MAX_TAG_LENGTH:
            raise ValueError(
                f"acceptWebSocket(): a tag is 1 to {MAX_TAG_LENGTH} characters, got {tag[:40]!r}"
            )
    return out


class _AttachmentStore:
    """The JS end's ``server.serializeAttachment(v)`` / ``deserializeAttachment()``."""

    def set(self, sid: str, value: Any) -> None:
        ws = _by_sid.get(str(sid))
        if ws is None:
            raise RuntimeError("this WebSocket is closed")
        ws.serialize_attachment(value)

    def get(self, sid: str) -> Any:
        ws = _by_sid.get(str(sid))
        return None if ws is None else ws.deserialize_attachment()


class WebSockets:
    """The sockets of one live object (``ctx.acceptWebSocket`` and the rest delegate here)."""

    __slots__ = ("_state", "_open", "_auto", "_listening")

    def __init__(self, state: Any) -> None:
        self._state = state
        self._open: dict[str, HibernatableWebSocket] = {}
        self._auto: WebSocketRequestResponsePair | None = None
        # Sockets accepted with server.accept() (not hibernatable), by id: their JS server end.
        self._listening: dict[str, Any] = {}

    def _token(self) -> str:
        return self._state.storage._token

    def _post(self, method: str, *args: Any) -> None:
        _host().post(BINDING, method, self._token(), *args)

    def _forget(self, ws: HibernatableWebSocket) -> None:
        self._open.pop(ws._sid, None)
        if _by_sid.get(ws._sid) is ws:
            del _by_sid[ws._sid]

    def _add(self, sid: str, tags: list[str], attachment: Any) -> HibernatableWebSocket:
        ws = HibernatableWebSocket(self, sid, tags, attachment)
        self._open[sid] = ws
        _by_sid[sid] = ws
        return ws

    def accept(self, ws: Any, tags: Any = None) -> None:
        global _store_installed
        names = _tags(tags)
        host = _host()
        if not _store_installed:
            host.wsAttachments(create_proxy(_AttachmentStore()))
            _store_installed = True
        sid = os.urandom(16).hex()
        ref = f"{self._state.id}:{sid}"
        host.wsAccept(ws, self._token(), sid, ref, to_js(names))
        self._add(sid, names, _ABSENT)

    def adopt(self, client: Any) -> str:
        """The ref of a socket the object accepted with ``server.accept()`` and answered with
        (``client``): the host holds it, its messages go to ``server``'s listeners."""
        sid = os.urandom(16).hex()
        ref = f"{self._state.id}:{sid}"
        _host().wsAdopt(client, self._token(), sid, ref)
        self._listening[sid] = client.peer
        return ref

    def get(self, tag: str | None = None) -> list[HibernatableWebSocket]:
        if tag is None:
            return list(self._open.values())
        return [ws for ws in self._open.values() if tag in ws._tags]

    def tags(self, ws: Any) -> list[str]:
        if isinstance(ws, HibernatableWebSocket):
            return list(ws._tags)
        sid = getattr(getattr(ws, "hibernation", None), "sid", None)
        found = self._open.get(str(sid)) if sid is not None else None
        if found is None:
            raise TypeError("getTags() takes a WebSocket this object accepted")
        return list(found._tags)

    def set_auto_response(self, pair: Any = None) -> None:
        if pair is None:
            self._auto = None
            self._post("wsAutoResponse", None, None)
            return
        request, response = getattr(pair, "request", None), getattr(pair, "response", None)
        if not isinstance(request, str) or not isinstance(response, str):
            raise TypeError(
                "setWebSocketAutoResponse() takes a WebSocketRequestResponsePair(request, "
                "response) of two strings (or None to clear it)"
            )
        self._auto = WebSocketRequestResponsePair(request, response)
        self._post("wsAutoResponse", request, response)

    def auto_response_timestamp(self, ws: HibernatableWebSocket) -> datetime.datetime | None:
        ms = _bindings.call_store(BINDING, "wsAutoResponseTime", self._token(), ws._sid)
        if ms is None:
            return None
        return datetime.datetime.fromtimestamp(float(ms) / 1000, tz=datetime.UTC)

    def load(self) -> None:
        """A new instance of an object with open sockets: what the host holds for it."""
        listing = _bindings.call_store(BINDING, "wsList", self._token())
        for item in listing.get("sockets") or []:
            attachment = item.get("attachment")
            kept = _ABSENT if attachment is None else _keep(attachment)
            self._add(str(item["id"]), [str(t) for t in item.get("tags") or []], kept)
        auto = listing.get("auto")
        if auto:
            self._auto = WebSocketRequestResponsePair(str(auto[0]), str(auto[1]))

    def socket_for(self, event: dict[str, Any]) -> HibernatableWebSocket:
        """The socket an event is for (the one this instance knows, or one made from the event:
        a new instance learns its sockets on its first event)."""
        sid = str(event["id"])
        ws = self._open.get(sid)
        if ws is None:
            attachment = event.get("attachment")
            kept = _ABSENT if attachment is None else _keep(attachment)
            ws = self._add(sid, [str(t) for t in event.get("tags") or []], kept)
        return ws

    def dropped(self) -> None:
        """The instance is gone (evicted): its sockets stay open on the host."""
        for ws in list(self._open.values()):
            if _by_sid.get(ws._sid) is ws:
                del _by_sid[ws._sid]
        self._open.clear()
        self._listening.clear()


def _deliver_to_server(sockets: WebSockets, server: Any, event: dict[str, Any]) -> None:
    """An event of a socket accepted with ``server.accept()``: to its JS listeners."""
    kind = event.get("kind")
    if kind == "message":
        data = event.get("data")
        server.receive(data if isinstance(data, str) else to_js(bytes(data)))
        return
    sockets._listening.pop(str(event["id"]), None)
    code = 1006 if kind == "error" else int(event.get("code") or 1005)
    server.receiveClose(code, str(event.get("reason") or ""))


def _handler(instance: Any, *names: str) -> Any:
    for name in names:
        fn = getattr(instance, name, None)
        if callable(fn):
            return fn
    return None


def run_event(instance: Any, sockets: WebSockets, event: dict[str, Any]) -> Any:
    """Calls the object's handler for one socket event; returns what it returned."""
    from ._calls import call_relaxed, positional_arity

    if event.get("listen"):
        server = sockets._listening.get(str(event["id"]))
        if server is None:
            # Its listeners were in an instance that is gone (the isolate crashed).
            if event.get("kind") == "message":
                sockets._post(
                    "wsClose", str(event["id"]), 1011, "the Durable Object that accepted it is gone"
                )
            return None
        _deliver_to_server(sockets, server, event)
        return None
    ws = sockets.socket_for(event)
    kind = event.get("kind")
    class_name = type(instance).__name__
    if kind == "message":
        handler = _handler(instance, "webSocketMessage", "web_socket_message")
        if handler is None:
            raise TypeError(
                f"the Durable Object {class_name} accepted a WebSocket but defines no "
                "async def webSocketMessage(self, ws, message)"
            )
        message = event.get("data")
        if not isinstance(message, str):
            message = bytes(message)
        return handler(ws, message)
    # Closed (by the client, or the connection broke): it is no longer one of the open ones.
    ws.ready_state = CLOSED
    sockets._forget(ws)
    if kind == "error":
        handler = _handler(instance, "webSocketError", "web_socket_error")
        if handler is None:
            return None
        return handler(ws, RuntimeError(str(event.get("message") or "WebSocket error")))
    handler = _handler(instance, "webSocketClose", "web_socket_close")
    if handler is None:
        return None
    code = int(event.get("code") or 1005)
    args = (ws, code, str(event.get("reason") or ""), bool(event.get("wasClean")))
    return call_relaxed(handler, positional_arity(handler), args)
