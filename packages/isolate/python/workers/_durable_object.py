"""Durable Objects: ``class Counter(DurableObject)`` and the object events that reach it.

An object lives in one isolate of the worker that defines its class, one instance per id,
made on its first event (``Counter(ctx, env)``). The router places every event for an id on
that one isolate; here they run one at a time, in arrival order (the input gate: no two
events interleave at a storage call, so ``v = await get(); await put(v + 1)`` never loses an
update; as on Cloudflare, another event may run while one waits for an outgoing stub or
service call, see :mod:`workers._do_gate`), and each is answered only after the storage calls
it made finished (the output gate). A ``fetch`` whose Response body streams is answered with
its head once those writes are done; its body then streams outside the event, as on
Cloudflare: the input gate is not held while it does (the next event runs meanwhile), and
writes made while the body is produced are not waited for.
``ctx.block_concurrency_while(fn)`` holds the next events until ``fn`` is done (in the
constructor too). An evicted object's instance is dropped; its storage stays on disk.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import traceback
from typing import Any

from . import _do_gate, _streamed_result
from ._calls import call_relaxed, positional_arity
from ._do_storage import AlarmInfo, Storage
from ._do_websockets import (
    HibernatableWebSocket,
    WebSocketRequestResponsePair,
    WebSockets,
    run_event,
)

# At the top, not per event: an import statement in a function costs ~3-5 us in Pyodide.
from ._rpc import json_plain, python_value, to_rpc

_log = logging.getLogger("workers")


class DurableObjectId:
    """An object's id: 64 hex digits (``str(id)``, ``id.toString()``), ``name`` if it was
    made by ``id_from_name``."""

    __slots__ = ("_hex", "name")

    def __init__(self, hex_id: str, name: str | None = None) -> None:
        self._hex = hex_id
        self.name = name

    def toString(self) -> str:  # noqa: N802 - Cloudflare's JS spelling
        return self._hex

    to_string = toString

    def __str__(self) -> str:
        return self._hex

    def __repr__(self) -> str:
        return f"DurableObjectId({self._hex!r}{f', name={self.name!r}' if self.name else ''})"

    def equals(self, other: Any) -> bool:
        return isinstance(other, DurableObjectId) and other._hex == self._hex

    def __eq__(self, other: object) -> bool:
        return self.equals(other)

    def __hash__(self) -> int:
        return hash(self._hex)


class DurableObjectState:
    """``self.ctx`` of an object: ``id``, ``storage``, ``block_concurrency_while``,
    ``wait_until``, and the WebSocket hibernation API (``acceptWebSocket``, ``getWebSockets``,
    ``getTags``, ``setWebSocketAutoResponse``; see :mod:`workers._do_websockets`)."""

    __slots__ = ("id", "storage", "_blockers", "_tasks", "_websockets")

    def __init__(self, object_id: DurableObjectId, storage: Storage) -> None:
        self.id = object_id
        self.storage = storage
        self._blockers: list[asyncio.Future[Any]] = []
        self._tasks: list[asyncio.Future[Any]] = []
        self._websockets = WebSockets(self)

    # WebSockets (the hibernation API)

    def accept_websocket(self, ws: Any, tags: Any = None) -> None:
        """Accepts ``ws`` (the server end of a ``WebSocketPair``): the host holds it from now on
        and the client's messages arrive as ``webSocketMessage`` events, even after the object
        was evicted. Up to 10 ``tags`` (str) find it again with ``get_websockets(tag)``."""
        self._websockets.accept(ws, tags)

    def get_websockets(self, tag: str | None = None) -> list[HibernatableWebSocket]:
        """The open sockets this object accepted (those with ``tag`` when given)."""
        return self._websockets.get(tag)

    def get_tags(self, ws: Any) -> list[str]:
        return self._websockets.tags(ws)

    def set_websocket_auto_response(self, pair: Any = None) -> None:
        """Has the host answer the text ``pair.request`` with ``pair.response`` on every socket,
        without waking the object (``None`` clears it)."""
        self._websockets.set_auto_response(pair)

    def get_websocket_auto_response(self) -> WebSocketRequestResponsePair | None:
        return self._websockets._auto

    def get_websocket_auto_response_timestamp(self, ws: HibernatableWebSocket) -> Any:
        """When the host last auto-responded on ``ws`` (a UTC datetime), or None."""
        return self._websockets.auto_response_timestamp(ws)

    acceptWebSocket = accept_websocket
    getWebSockets = get_websockets
    getTags = get_tags
    setWebSocketAutoResponse = set_websocket_auto_response
    getWebSocketAutoResponse = get_websocket_auto_response
    getWebSocketAutoResponseTimestamp = get_websocket_auto_response_timestamp

    def block_concurrency_while(self, callback: Any) -> asyncio.Future[Any]:
        """Runs ``callback()`` (sync or async); no other event reaches the object until it is
        done. Returns an awaitable of its result."""

        async def run() -> Any:
            # Not part of the event's turn (this task has its own context): what it awaits
            # (a timer, a fetch, a stub call) does not open the input gate, as on Cloudflare;
            # the events it holds back would wait for it while it waited for them.
            _do_gate._turn.set(None)
            result = callback()
            if inspect.isawaitable(result):
                result = await result
            return result

        task = asyncio.ensure_future(run())
        self._blockers.append(task)
        return task

    blockConcurrencyWhile = block_concurrency_while

    def wait_until(self, awaitable: Any) -> None:
        """Keep ``awaitable`` running after the event's answer (failures are logged)."""
        from ._entrypoint import wait_until

        self._tasks.append(wait_until(awaitable))

    waitUntil = wait_until

    async def _unblock(self) -> None:
        while self._blockers:
            task = self._blockers.pop(0)
            await task

    def abort(self, reason: str | None = None) -> None:
        """Resets the object: this event fails with ``reason`` (as do the events waiting for
        it), writes not yet committed are dropped, and the next event makes a new instance
        with what storage holds. Raises :class:`DurableObjectAbort` (a ``BaseException``, so
        ``except Exception`` in the object's code does not stop it)."""
        raise DurableObjectAbort(reason or "Durable Object abort requested")

    def __repr__(self) -> str:
        return f"DurableObjectState({self.id!r})"


class DurableObjectAbort(BaseException):
    """What ``ctx.abort(reason)`` raises to end the event (workers-py's name)."""


class DurableObject:
    """Base class of a Durable Object: ``self.ctx`` (its state) and ``self.env``."""

    ctx: DurableObjectState
    env: Any

    def __init__(self, ctx: DurableObjectState, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class _Live:
    __slots__ = ("instance", "state", "gate", "aborted")

    def __init__(self) -> None:
        self.instance: Any = None
        self.state: DurableObjectState | None = None
        self.gate = _do_gate.Gate()
        self.aborted: str | None = None


# (class name, id) -> the live object in this isolate.
_objects: dict[tuple[str, str], _Live] = {}


def live_count() -> int:
    return len(_objects)


def _exception(exc: BaseException) -> tuple[Any, ...]:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tb = "".join(lines).rstrip()
    error = {"name": type(exc).__name__, "message": str(exc), "traceback": tb}
    return ("ok", {"type": "rpc", "outcome": "exception", "error": error}, tb)


def _refusal(message: str) -> tuple[Any, ...]:
    error = {"name": "TypeError", "message": message}
    return ("ok", {"type": "rpc", "outcome": "exception", "error": error})


def _class(module: Any, class_name: str) -> Any:
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        name = getattr(module, "__name__", "the worker")
        raise TypeError(
            f"{name} has no Durable Object class {class_name!r}; define "
            f"class {class_name}(DurableObject) in its main module"
        )
    return cls


def _method(instance: Any, class_name: str, method: str) -> Any:
    if not method or method.startswith("_"):
        raise TypeError(
            f"{class_name}.{method} cannot be called over RPC: names starting with '_' are private"
        )
    fn = getattr(instance, method, None)
    if not callable(fn):
        raise TypeError(
            f"the Durable Object {class_name} does not implement the method {method!r}; "
            f"define async def {method}(self, ...) on {class_name}"
        )
    return fn


async def _run(live: _Live, data: dict[str, Any], op: str | None) -> Any:
    """Runs one event on the object; returns the result value (RPC data)."""
    instance = live.instance
    class_name = type(instance).__name__
    method = str(data.get("method") or "")
    args = [python_value(a) for a in data.get("args") or []]
    if op == "alarm":
        handler = getattr(instance, "alarm", None)
        if not callable(handler):
            raise TypeError(
                f"the Durable Object {class_name} set an alarm but defines no "
                "async def alarm(self, alarm_info)"
            )
        info = data.get("alarm") or {}
        retry = int(info.get("retryCount", 0))
        result = call_relaxed(handler, positional_arity(handler), (AlarmInfo(retry, retry > 0),))
    elif op == "ws":
        result = run_event(instance, live.state._websockets, data["object"]["ws"])
    elif method == "fetch":
        handler = getattr(instance, "fetch", None)
        if not callable(handler):
            raise TypeError(
                f"the Durable Object {class_name} defines no async def fetch(self, request)"
            )
        result = handler(*args[:1])
    else:
        result = _method(instance, class_name, method)(*args)
    if inspect.isawaitable(result):
        result = await result
    if method == "fetch" and op is None:
        from ._response import FetchResponse

        if not isinstance(result, FetchResponse):
            raise TypeError(
                f"{class_name}.fetch() must return a workers.Response, got {type(result).__name__}"
            )
        # A body that streams is not read here: it goes to the caller as it comes (the input
        # gate is not held while it does; see _streamed_result).
        streaming = _streamed_result.streamed(result)
        if streaming is not None:
            return streaming
    # Plain data goes back as it is: the runtime sends the whole answer as JSON text.
    return result if json_plain(result) else await to_rpc(result)


async def dispatch(module: Any, data: dict[str, Any], env: Any) -> tuple[Any, ...]:
    """One event for an object: ``data["object"]`` names it (``className``, ``id``, ``name``,
    ``token``; ``op``: ``"alarm"``, ``"evict"`` or none for fetch/RPC). Returns what
    ``_pyworkers_runtime.dispatch`` returns for an RPC event."""
    target = data.get("object") or {}
    class_name = str(target.get("className"))
    key = (class_name, str(target.get("id")))
    op = target.get("op")
    if op == "evict":
        _drop(_objects.pop(key, None))
        return ("ok", {"type": "rpc", "outcome": "ok", "value": None})
    live = _objects.get(key)
    if live is None:
        live = _objects[key] = _Live()
    gate = live.gate
    if gate.busy:
        await gate.enter()
    else:
        gate.busy = True  # enter(), without a coroutine when nobody holds the gate
    turn, token_ctx = _do_gate.begin(gate)
    try:
        if _objects.get(key) is not live:  # evicted while this event waited
            if live.aborted is not None:
                return _aborted(live.aborted, waited=True)
            return await dispatch(module, data, env)
        return await _event(module, data, env, live, key, op)
    finally:
        _do_gate.end(turn, token_ctx)


async def _event(
    module: Any, data: dict[str, Any], env: Any, live: _Live, key: tuple[str, str], op: Any
) -> tuple[Any, ...]:
    """One event, its turn at the object's gate taken."""
    target = data["object"]
    class_name = key[0]
    token = str(target["token"])
    try:
        if live.instance is not None and live.state.storage._token != token:
            # The host placed the object anew (it evicted the one this instance was).
            _drop(live)
            live.instance = None
        if live.instance is None:
            try:
                cls = _class(module, class_name)
            except TypeError as exc:
                _objects.pop(key, None)
                return _refusal(str(exc))
            name = target.get("name")
            storage = Storage(token, f"{class_name} {key[1][:12]}")
            state = DurableObjectState(DurableObjectId(key[1], name), storage)
            if target.get("sockets"):
                state._websockets.load()  # before the constructor: it may list them
            live.state = state
            live.instance = cls(state, env)
        state = live.state
        if state._blockers:
            await state._unblock()
    except (Exception, DurableObjectAbort) as exc:
        # A failing constructor (or its block_concurrency_while): the next event retries.
        _drop(_objects.pop(key, None))
        return _exception(exc)
    _current.set(state._websockets)  # this task's own context: no reset needed
    try:
        value = await _run(live, data, op)
    except DurableObjectAbort as exc:
        # ctx.abort(): forget the instance and what it had not committed; the host forgets
        # its token (rolling back an open transaction), so the next event starts afresh.
        reason = str(exc)
        live.aborted = reason
        state.storage._clear()
        state.storage._cache.clear()
        _drop(_objects.pop(key, None))
        try:
            from . import _bindings

            _bindings.call_store(_STORAGE_BINDING, "abort", token)
        except Exception:
            pass
        return _aborted(reason)
    except Exception as exc:
        try:
            await state.storage._settle()
        except Exception:
            pass
        return _exception(exc)
    storage = state.storage
    if storage._queue or storage._running or storage._failed is not None:
        try:
            await storage._settle()
        except Exception as exc:
            return _exception(exc)
    # The output gate: the answer (a streamed body's head too) waits for the event's writes.
    return _streamed_result.answer(value)


_STORAGE_BINDING = "__pyworkers_do__"

# The sockets of the object whose event this task runs (for a 101 answer's server.accept()).
_current: contextvars.ContextVar[WebSockets | None] = contextvars.ContextVar(
    "pyworkers_do_sockets", default=None
)


def current_websockets() -> WebSockets | None:
    return _current.get()


def _aborted(reason: str, waited: bool = False) -> tuple[Any, ...]:
    when = " while this event waited for it" if waited else ""
    message = f"the Durable Object was reset by ctx.abort(){when}: {reason}"
    return ("ok", {"type": "rpc", "outcome": "exception",
                   "error": {"name": "Error", "message": message}})


def _drop(live: _Live | None) -> None:
    if live is not None and live.state is not None:
        live.state._websockets.dropped()


def check_classes(module: Any, classes: list[str]) -> None:
    """Fails the build when the config names a Durable Object class the module lacks."""
    name = getattr(module, "__name__", "the worker")
    where = getattr(module, "__file__", None) or name
    where = where.rsplit("/worker/", 1)[-1] if "/worker/" in where else where
    for class_name in classes:
        cls = getattr(module, class_name, None)
        if cls is None:
            raise TypeError(
                f"the config names Durable Object class {class_name!r} "
                f"(durable_objects.bindings / migrations), but {where} defines no class "
                f"{class_name}; define class {class_name}(DurableObject) in it "
                "(or import it there)"
            )
        if not isinstance(cls, type):
            raise TypeError(
                f"{where}: {class_name} must be a class (class {class_name}(DurableObject)), "
                f"got {type(cls).__name__}"
            )
