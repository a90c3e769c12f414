"""Glue between the isolate's worker thread and the worker's Python module.

``load`` runs at build time (its effects live in the snapshot); ``set_env`` once per isolate
after a restore; ``handle`` once per request, so it stays lean; ``dispatch`` once per
``scheduled`` or ``queue`` event.
"""

import asyncio
import importlib
import inspect
import json
import traceback

from workers import _bindings, _durable_object, _logging, _remote_body, _rpc, _sync_http
from workers._batches import ChunkBatches, StepBuffer, step_into
from workers._calls import missing_handler, missing_handler_parts, resolve_handlers
from workers._entrypoint import Context
from workers._env import env as _env
from workers._env import make_bindings
from workers._events import event_from_data, event_result
from workers._request import Request, _is_js
from workers._response import FetchResponse, Response
from workers._streamed_result import StreamedEvent
from workers._streams import StreamedResponse

_logging.install()
# Blocking HTTP clients (requests, urllib3, httpx.Client, urllib) go through the host.
_sync_http.install()

_handlers = {}
_fetch = None
_module = None
_module_name = "the worker"


def load(main_module, durable_object_classes=()):
    """Imports the worker's main module: its top level runs here (at build time, when
    snapshotting). ``durable_object_classes``: the classes its config names, checked here."""
    global _handlers, _fetch, _module, _module_name
    module = importlib.import_module(main_module)
    classes = list(durable_object_classes or ())
    if hasattr(durable_object_classes, "to_py"):
        classes = durable_object_classes.to_py()
    from workers._durable_object import check_classes

    check_classes(module, classes)
    _module = module
    try:
        _handlers = resolve_handlers(module)
    except TypeError:
        if not classes or hasattr(module, "Default"):
            raise
        _handlers = {}  # a worker of Durable Objects only: its objects get the events
    _fetch = _handlers.get("fetch")
    _module_name = main_module


def set_env(values, bindings=None):
    """Installs the worker's env: vars and secrets (a JS object of strings) and a proxy per
    declared binding (``bindings``: ``[[name, type], ...]`` from the bundle's manifest)."""
    values = values.to_py() if hasattr(values, "to_py") else dict(values)
    if bindings is not None:
        declared = bindings.to_py() if hasattr(bindings, "to_py") else bindings
        values.update(make_bindings(declared))
    _env._replace(values)
    _bindings._reset()
    _bindings._serving = True


async def warm_up(js_request):
    """Runs the SDK's side of a request once, without the worker's code.

    Called after a restore with a synthetic request, so that first-time work (FFI lookups,
    Pyodide's proxy caches, bytecode specialisation: none of it in the snapshot's JS side)
    is not paid by the first real request.
    """
    request = Request._wrap_lazy(js_request)
    request.method, request.url, request.headers  # noqa: B018 - touched for their side effects
    Context()
    return ("ok", *Response("warm")._encode())


def _handler_frames(tb):
    # Drop this module's own frame so the traceback starts in the worker's code.
    return tb.tb_next if tb is not None and tb.tb_next is not None else tb


def _error(exc):
    lines = traceback.format_exception(type(exc), exc, _handler_frames(exc.__traceback__))
    return f"{type(exc).__name__}: {exc}", "".join(lines).rstrip()


async def handle(js_request):
    """Runs one request (``js_request``: the worker thread's incoming request, whose ``method``
    and ``url`` are plain values and whose ``request()`` builds the JS Request). Returns a JS
    Response, ``("ok", status, pairs, body)`` or ``("error", message, traceback)`` when the
    handler raised."""
    # Service fetch bodies this request leaves unread are cancelled once it is over.
    opened = _remote_body.request_scope()
    ctx = Context()
    try:
        if _fetch is None:
            raise TypeError(missing_handler(_module_name, "fetch"))
        result = _fetch(Request._wrap_lazy(js_request), _env, ctx)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, FetchResponse):
            encoded = result._encode()
            if type(encoded) is tuple:
                _remote_body.cancel_all(opened, ctx)
                return ("ok", *encoded)
            if opened and isinstance(encoded, StreamedResponse):
                encoded.chunks = _remote_body.closing(encoded.chunks, opened, ctx)
            return encoded  # a JS Response may stream from one: left to the router's timeout
        if _is_js(result, "Response"):
            return result  # it may stream from one of them: left to the router's timeout
        raise TypeError(
            f"fetch() must return a workers.Response, got {type(result).__name__}"
        )
    except Exception as exc:
        _remote_body.cancel_all(opened, ctx)
        return ("error", *_error(exc))


def _eager(coro):
    """Runs ``coro`` as an eager task: its steps up to the first real suspension run now, in
    this call, inside a real ``asyncio.Task`` (``current_task()``, timeouts, contextvars and
    anyio all work). A handler that never waits on I/O (most answers) is done on return: its
    result goes back without a trip through the event loop and a JS Promise, which cost a
    hello request ~2/3 of its time in the isolate. Otherwise the task is returned, and JS
    awaits it."""
    task = asyncio.Task(coro, loop=asyncio.get_event_loop(), eager_start=True)
    return task.result() if task.done() else task


def handle_eager(js_request):
    """``handle``, run eagerly: its result, or a Task to await when the handler waits."""
    return _eager(handle(js_request))


def chunk_batches(chunks):
    """The steps of a streamed body (``chunks``: ``StreamedResponse.chunks``) for the worker
    thread: several ready chunks per step (``workers._batches``)."""
    return ChunkBatches(chunks)


_step_buffer = None


def step_buffer(size):
    """The isolate's :class:`StepBuffer` (its ``bytearray``), made on first use."""
    global _step_buffer
    if _step_buffer is None:
        _step_buffer = StepBuffer(size)
    return _step_buffer.buffer


def next_chunks_eager(batches, limit):
    """The next chunks of a streamed body: the chunks it has ready, up to ``limit`` bytes, come
    back within the call, as their length when they were copied into the step buffer (see
    ``step_buffer``), else a list of ``bytes``; None at its end; or a Task to await (for a list
    or None) when the producer waits."""
    return step_into(batches, limit, _step_buffer, _eager)


def close_chunks_eager(batches):
    """Closes a streamed body early (its ``finally`` blocks run); None, or a Task to await."""
    return _eager(batches.aclose())


def warm_up_eager(js_request):
    """``warm_up``, run the way ``handle_eager`` runs requests."""
    return _eager(warm_up(js_request))


def dispatch_eager(js_event):
    """``dispatch``, run the way ``handle_eager`` runs requests: an RPC that needs no I/O (a
    Durable Object method answered from its cached storage) is answered within this call.
    ``js_event`` may be the event as JSON text (the worker thread's fast path for plain data);
    an answer of plain data comes back as JSON text too: no JS object walked from Python."""
    return _eager(_dispatch_json(js_event))


_to_json = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


async def _dispatch_json(js_event):
    result = await dispatch(js_event)
    if isinstance(result, StreamedEvent):
        return result  # its body streams (event-bridge.ts)
    for part in result:
        if not _rpc.json_plain(part):
            return result
    return _to_json(result)


async def dispatch(js_event):
    """Runs one ``scheduled``, ``queue`` or ``rpc`` event. Returns ``("ok", result)`` with the
    result data (outcome, per-message actions, an RPC value), ``("missing", message, hint)``
    when the worker has no handler for it, or ``("ok", result, traceback)`` when the handler
    raised; a ``StreamedEvent`` when the result is a Response whose body streams (an object's
    or an entrypoint's fetch)."""
    if type(js_event) is str:
        data = json.loads(js_event)
    else:
        data = js_event.to_py() if hasattr(js_event, "to_py") else js_event
    kind = data.get("type")
    if kind == "rpc":
        if data.get("object") is not None:
            return await _durable_object.dispatch(_module, data, _env)
        return await _rpc.serve(_module, data, _env, Context)
    handler = _handlers.get(kind)
    if handler is None:
        return ("missing", *missing_handler_parts(_module_name, str(kind)))
    event = event_from_data(data)
    ctx = Context()
    try:
        result = handler(event, _env, ctx)
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        message, tb = _error(exc)
        await ctx._settle()
        return ("ok", event_result(event, message), tb)
    await ctx._settle()
    return ("ok", event_result(event, None))
