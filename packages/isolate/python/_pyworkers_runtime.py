"""Glue between the isolate's worker thread and the worker's Python module.

``load`` runs at build time (its effects live in the snapshot); ``set_env`` once per isolate
after a restore; ``handle`` once per request, so it stays lean.
"""

import importlib
import inspect
import traceback

from workers import _bindings, _logging
from workers._entrypoint import Context
from workers._env import env as _env
from workers._request import Request, _is_js
from workers._response import FetchResponse, Response

_logging.install()

_dispatch = None


def _resolve(module):
    """Picks the worker's entry: ``class Default`` with ``fetch``, else ``on_fetch``."""
    default = getattr(module, "Default", None)
    if default is not None:
        if not callable(getattr(default, "fetch", None)):
            raise TypeError(
                f"{module.__name__}.Default has no fetch(self, request) method; add one"
            )
        return lambda request, ctx: default(ctx, _env).fetch(request)
    on_fetch = getattr(module, "on_fetch", None)
    if on_fetch is None:
        raise TypeError(
            f"{module.__name__} defines neither class Default(WorkerEntrypoint) with "
            "async def fetch(self, request) nor on_fetch(request, env); define one of them"
        )
    try:
        params = inspect.signature(on_fetch).parameters.values()
        takes_ctx = len(params) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params)
    except (TypeError, ValueError):
        takes_ctx = False
    if takes_ctx:
        return lambda request, ctx: on_fetch(request, _env, ctx)
    return lambda request, ctx: on_fetch(request, _env)


def load(main_module):
    """Imports the worker's main module: its top level runs here (at build time when snapshotting)."""
    global _dispatch
    _dispatch = _resolve(importlib.import_module(main_module))


def set_env(values):
    """Installs the worker's env (vars and secrets); ``values`` is a JS object of strings."""
    _env._replace(values.to_py() if hasattr(values, "to_py") else values)
    _bindings._serving = True


async def warm_up(js_request):
    """Runs the SDK's side of a request once, without the worker's code.

    Called after a restore with a synthetic request, so that first-time work (FFI lookups,
    Pyodide's proxy caches, bytecode specialisation: none of it in the snapshot's JS side)
    is not paid by the first real request.
    """
    request = Request._wrap(js_request)
    request.method, request.url, request.headers  # noqa: B018 - touched for their side effects
    Context()
    return ("ok", *Response("warm")._encode())


def _handler_frames(tb):
    # Drop this module's own frame so the traceback starts in the worker's code.
    return tb.tb_next if tb is not None and tb.tb_next is not None else tb


async def handle(js_request):
    """Runs one request. Returns a JS Response, ``("ok", status, pairs, body)`` or
    ``("error", message, traceback)`` when the handler raised."""
    try:
        result = _dispatch(Request._wrap(js_request), Context())
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, FetchResponse):
            encoded = result._encode()
            return encoded if not isinstance(encoded, tuple) else ("ok", *encoded)
        if _is_js(result, "Response"):
            return result
        raise TypeError(
            f"fetch() must return a workers.Response, got {type(result).__name__}"
        )
    except Exception as exc:
        lines = traceback.format_exception(type(exc), exc, _handler_frames(exc.__traceback__))
        return ("error", f"{type(exc).__name__}: {exc}", "".join(lines).rstrip())
