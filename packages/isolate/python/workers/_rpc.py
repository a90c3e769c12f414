"""RPC between workers: values as Cloudflare's SDK converts them, and the called side.

Arguments and results of ``await env.SVC.method(*args)`` cross as structured-clone data,
converted as workers-py's ``python_to_rpc`` / ``python_from_rpc`` do: ``None``, ``bool``,
``int``, ``float``, ``str``, ``list``, ``dict`` (str keys; arrives as a ``JsDict``), ``bytes``
and ``datetime`` (a JS ``Date``; naive datetimes are UTC and arrive naive, in UTC, as on
Cloudflare). A ``Request`` or ``Response`` travels as a tagged object with its body read whole::

    {"__rpc__": "Request", "method", "url", "headers": [[name, value]], "body": bytes | None}
    {"__rpc__": "Response", "status", "statusText", "headers": [[name, value]], "body": ...}

except the answer of a fetch (a service binding's, a Durable Object stub's, an entrypoint's),
whose body may stream: ``"bodyStream": id`` names where the rest of it is read
(``workers._remote_body``), ``body`` holding what came first (``workers._streamed_result``).

``tuple``, ``bytearray``, ``set`` and other objects raise ``TypeError`` (as on Cloudflare).
The pure parts (the walks) import under CPython; the JS conversion needs Pyodide.
"""

from __future__ import annotations

import builtins
import datetime
import inspect
import traceback
from typing import Any

try:  # Inside Pyodide; under CPython only the pure helpers below are usable.
    from pyodide.ffi import JsProxy, jsnull, to_js
except ImportError:  # pragma: no cover - CPython
    JsProxy = to_js = None
    jsnull = None

from . import _streamed_result
from ._convert import SAFE_INT as _SAFE_INT
from ._convert import JsDict
from ._convert import json_plain as _json_plain

TAG = "__rpc__"
_UTC = datetime.UTC


class RpcError(Exception):
    """An exception raised by the called worker's method.

    ``name`` is its class name (``"ValueError"``) and ``remote_traceback`` its traceback there
    (also in that worker's log). For a builtin exception name the error is also an instance of
    that class, so ``except ValueError:`` catches a remote ``ValueError``.
    """

    def __init__(self, name: str, message: str, remote_traceback: str | None = None) -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name = name
        self.remote_message = message
        self.remote_traceback = remote_traceback

    def __str__(self) -> str:
        # Plain text, also for the builtin subclasses (KeyError's own __str__ would quote it).
        return str(self.args[0]) if self.args else self.name


_remote_classes: dict[str, type[RpcError]] = {}


def remote_error(name: str, message: str, tb: str | None = None) -> RpcError:
    """The exception to raise for a remote one: an ``RpcError`` (and the builtin of that name)."""
    cls = _remote_classes.get(name)
    if cls is None:
        base = getattr(builtins, name, None)
        if (
            isinstance(base, type)
            and issubclass(base, Exception)
            and base is not Exception
            and not issubclass(base, OSError)  # OSError's constructor rewrites its arguments
        ):
            cls = type(name, (RpcError, base), {"__module__": "workers"})
        else:
            cls = RpcError
        _remote_classes[name] = cls
    return cls(name, message, tb)


def _refuse(value: Any) -> TypeError:
    kind = type(value).__name__
    hint = " (send a list)" if isinstance(value, (tuple, set, frozenset)) else ""
    if isinstance(value, bytearray):
        hint = " (send bytes)"
    return TypeError(
        f"{kind} cannot be sent over RPC{hint}: send None, bool, int, float, str, bytes, "
        "datetime, list, dict, Request or Response"
    )


def _is_primitive(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is float or kind is bool:
        return True
    return kind is int and -_SAFE_INT < value < _SAFE_INT


class _Pending:
    """A Request or Response met during the walk: its body is read after it (async)."""

    __slots__ = ("source", "tagged")

    def __init__(self, source: Any, tagged: dict[str, Any]) -> None:
        self.source = source
        self.tagged = tagged


def _walk(value: Any, pending: list[_Pending]) -> Any:
    """A copy of ``value`` with JS-ready leaves: None -> jsnull, tagged Request/Response."""
    if _is_primitive(value):
        return value
    if value is None:
        return jsnull
    kind = type(value)
    if kind is int:
        return value  # to_js makes a BigInt past 2**53
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)  # an int subclass (IntEnum, a JsBigInt that arrived over RPC)
    if kind is list:
        return [_walk(item, pending) for item in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(
                    f"dict keys sent over RPC must be str, got {type(key).__name__} ({key!r})"
                )
            out[key] = _walk(item, pending)
        return out
    if kind is bytes:
        return value
    if isinstance(value, datetime.datetime):
        return value
    if JsProxy is not None and isinstance(value, JsProxy):
        return value  # a JS value passes as it is (as on Cloudflare)
    from ._request import Request
    from ._response import FetchResponse

    if isinstance(value, Request):
        tagged = {TAG: "Request", "method": str(value.method), "url": value.url}
        pending.append(_Pending(value, tagged))
        return tagged
    if isinstance(value, FetchResponse):
        tagged = {TAG: "Response", "status": value.status, "statusText": value.status_text}
        pending.append(_Pending(value, tagged))
        return tagged
    if isinstance(value, BaseException):
        return {TAG: "Error", "name": type(value).__name__, "message": str(value)}
    raise _refuse(value)


async def _fill(item: _Pending) -> None:
    source, tagged = item.source, item.tagged
    from ._response import FetchResponse

    if isinstance(source, FetchResponse):
        tagged["headers"] = [list(pair) for pair in source._header_pairs()]
        if source._web_socket is not None:
            tagged["webSocket"] = _socket_ref(source._web_socket)
            tagged["body"] = jsnull
            return
        body = await source.bytes()
        tagged["body"] = body if body else jsnull
        return
    from . import _headers

    tagged["headers"] = [list(pair) for pair in _headers.js_pairs(source.js_object.headers)]
    if source.method in ("GET", "HEAD"):
        tagged["body"] = jsnull
    else:
        body = await source.bytes()
        tagged["body"] = body if body else jsnull


class RemoteWebSocket:
    """The WebSocket of a 101 response that came over RPC (a Durable Object's ``stub.fetch``):
    it is held by the host where the object lives. Return the response from ``fetch`` and the
    client is connected to it there."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return "RemoteWebSocket()"


def _socket_ref(socket: Any) -> str:
    """What a 101 response's WebSocket crosses RPC as: the ref of a hibernatable socket."""
    if isinstance(socket, RemoteWebSocket):
        return socket.ref
    from . import _bindings

    host = _bindings._host("__pyworkers_do__", "fetch")
    ref = host.wsRef(socket)
    if isinstance(ref, str):
        return ref
    from ._durable_object import current_websockets

    sockets = current_websockets()
    if sockets is not None and host.wsAccepted(socket):
        return sockets.adopt(socket)  # server.accept(): held by the host, not hibernatable
    raise TypeError(
        "a WebSocket answered over a stub or service binding must be accepted by a Durable "
        "Object first: self.ctx.acceptWebSocket(server) (the hibernation API), or "
        "server.accept()"
    )


def _js_default(value: Any, _convert: Any, _cache: Any) -> Any:
    if isinstance(value, datetime.datetime):
        import js

        moment = value if value.tzinfo is not None else value.replace(tzinfo=_UTC)
        return js.Date.new(moment.timestamp() * 1000)
    raise _refuse(value)


def _object_from_entries(entries: Any) -> Any:
    import js

    return js.Object.fromEntries(entries)


def _to_js(value: Any) -> Any:
    if _is_primitive(value):
        return value
    return to_js(
        value,
        dict_converter=_object_from_entries,
        default_converter=_js_default,
        create_pyproxies=False,
    )


async def _walked(values: list[Any]) -> list[Any]:
    pending: list[_Pending] = []
    walked = [_walk(value, pending) for value in values]
    for item in pending:
        await _fill(item)
    return walked


def json_plain(value: Any) -> bool:
    """True when JSON carries ``value`` as RPC data exactly as :func:`to_rpc` would convert it
    (:func:`_convert.json_plain` with the RPC tag: no tuple, no tagged dict)."""
    return _json_plain(value, TAG)


async def to_rpc_args(args: tuple[Any, ...] | list[Any]) -> Any:
    """The arguments of a call as one JS array of RPC data."""
    return _to_js(await _walked(list(args)))


async def to_rpc(value: Any) -> Any:
    """One Python value as RPC data (a JS value, or a primitive left as it is)."""
    return _to_js((await _walked([value]))[0])


def python_to_rpc(value: Any) -> Any:
    """Cloudflare's ``workers.python_to_rpc``: one value as RPC data, synchronously.

    A ``Request`` or a ``Response`` whose body is not in memory needs reading first: use
    ``await to_rpc(value)`` (what service bindings do).
    """
    pending: list[_Pending] = []
    walked = _walk(value, pending)
    for item in pending:
        source = item.source
        from ._response import FetchResponse

        if not (isinstance(source, FetchResponse) and source._js is None):
            raise TypeError(
                f"python_to_rpc(): a {type(source).__name__} body must be read first; "
                "use await workers._rpc.to_rpc(value)"
            )
        item.tagged["headers"] = [list(pair) for pair in source._header_pairs()]
        item.tagged["body"] = source._body if source._body else jsnull
    return _to_js(walked)


def _date(value: Any) -> datetime.datetime:
    moment = datetime.datetime.fromtimestamp(value.getTime() / 1000, tz=_UTC)
    return moment.replace(tzinfo=None)


def _py_default(value: Any, _convert: Any, _cache: Any) -> Any:
    constructor = getattr(getattr(value, "constructor", None), "name", None)
    if constructor == "Date":
        return _date(value)
    return value


def _tagged(value: dict[str, Any]) -> Any:
    tag = value.get(TAG)
    if tag == "Response":
        from ._response import Response

        pairs = [(str(k).lower(), str(v)) for k, v in value.get("headers") or []]
        body = _bytes(value.get("body"))
        stream_id = value.get("bodyStream")
        response = Response._from_parts(
            int(value.get("status", 200)),
            pairs,
            None if isinstance(stream_id, str) else body,
            str(value.get("statusText") or ""),
        )
        if isinstance(stream_id, str):
            # A fetch's body still streaming from the target: `body` is what was ready.
            from ._remote_body import RemoteBody

            response._stream = RemoteBody(stream_id, body)
        ref = value.get("webSocket")
        if isinstance(ref, str):
            response._web_socket = RemoteWebSocket(ref)
        return response
    if tag == "Request":
        from ._request import Request

        options: dict[str, Any] = {
            "method": str(value.get("method") or "GET"),
            "headers": [(str(k), str(v)) for k, v in value.get("headers") or []],
        }
        body = _bytes(value.get("body"))
        if body:
            options["body"] = body
        return Request(str(value.get("url")), **options)
    if tag == "Error":
        return remote_error(str(value.get("name")), str(value.get("message")))
    return None


def _bytes(value: Any) -> bytes | None:
    if value is None or (jsnull is not None and value is jsnull):
        return None
    return bytes(value)


def python_value(value: Any) -> Any:
    """A ``to_py()`` tree as the receiver sees it: JsDict, list, None, bytes, datetime,
    Request and Response for the tagged objects."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict or kind is JsDict:
        if TAG in value:
            tagged = _tagged(value)
            if tagged is not None:
                return tagged
        return JsDict({key: python_value(item) for key, item in value.items()})
    if kind is list or kind is tuple:
        return [python_value(item) for item in value]
    if kind is memoryview or kind is bytearray:
        return bytes(value)
    if jsnull is not None and value is jsnull:
        return None
    if isinstance(value, int):
        return int(value)  # a JS BigInt (past 2**53) arrives as a JsBigInt
    if JsProxy is not None and isinstance(value, JsProxy):
        return _py_default(value, None, None)
    return value


def from_rpc(value: Any) -> Any:
    """RPC data (a JS value seen from Python, or a primitive) as Python values."""
    if JsProxy is not None and isinstance(value, JsProxy):
        value = value.to_py(default_converter=_py_default)
    return python_value(value)


python_from_rpc = from_rpc


# The called side


def _refusal(message: str) -> dict[str, Any]:
    error = {"name": "TypeError", "message": message}
    return {"type": "rpc", "outcome": "exception", "error": error}


def _target(module: Any, entrypoint: str | None, method: str) -> Any:
    """The class and method an RPC call names, or the refusal to send back."""
    name = getattr(module, "__name__", "the worker")
    class_name = entrypoint or "Default"
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        return None, _refusal(
            f"{name} has no entrypoint class {class_name!r}; define "
            f"class {class_name}(WorkerEntrypoint) in its main module"
        )
    if not method or method.startswith("_"):
        return None, _refusal(
            f"{class_name}.{method} cannot be called over RPC: names starting with '_' are private"
        )
    if not callable(getattr(cls, method, None)):
        return None, _refusal(
            f"the RPC receiver {class_name} does not implement the method {method!r}; "
            f"define async def {method}(self, ...) on {class_name}"
        )
    return cls, None


def _error_frames(tb: Any) -> Any:
    # Drop this module's frames so the traceback starts in the worker's method.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return tb


async def serve(module: Any, data: dict[str, Any], env: Any, context: Any) -> tuple[Any, ...]:
    """Runs one RPC event on ``module``: ``("ok", result)``, or ``("ok", result, traceback)``
    when the method raised (the traceback goes to this worker's log)."""
    method = str(data.get("method") or "")
    entrypoint = data.get("entrypoint")
    cls, refusal = _target(module, entrypoint, method)
    if refusal is not None:
        return ("ok", refusal)
    ctx = context()
    try:
        args = [python_value(arg) for arg in data.get("args") or []]
        result = getattr(cls(ctx, env), method)(*args)
        if inspect.isawaitable(result):
            result = await result
        try:
            # An entrypoint's fetch whose body streams: it goes as it comes (_streamed_result).
            streaming = _streamed_result.streamed(result) if method == "fetch" else None
            value = streaming if streaming is not None else await to_rpc(result)
        except TypeError as exc:
            raise TypeError(f"the result of {cls.__name__}.{method}(): {exc}") from None
    except Exception as exc:
        lines = traceback.format_exception(type(exc), exc, _error_frames(exc.__traceback__))
        tb = "".join(lines).rstrip()
        await ctx._settle()
        error = {"name": type(exc).__name__, "message": str(exc), "traceback": tb}
        return ("ok", {"type": "rpc", "outcome": "exception", "error": error}, tb)
    await ctx._settle()
    return _streamed_result.answer(value)
