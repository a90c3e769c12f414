"""Glue between the isolate's JavaScript side and the worker's Python module."""

import importlib
import inspect
from types import SimpleNamespace

from workers import Request, Response

_entry = None


def load(main_module):
    """Import the worker's main module: its top level runs here (at build time when snapshotting)."""
    global _entry
    _entry = importlib.import_module(main_module)


async def handle(method, url, headers, body, env):
    """Run one request through the worker and return (status, [[name, value]...], body bytes)."""
    request = Request(method, url, headers, body)
    env_ns = SimpleNamespace(**env)
    if hasattr(_entry, "Default"):
        result = _entry.Default(SimpleNamespace(), env_ns).fetch(request)
    elif hasattr(_entry, "on_fetch"):
        result = _entry.on_fetch(request, env_ns)
    else:
        raise RuntimeError("the worker defines neither class Default(WorkerEntrypoint) nor on_fetch")
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, Response):
        raise TypeError(f"fetch() must return a workers.Response, got {type(result).__name__}")
    return [result.status, [[k, v] for k, v in result.headers.items()], result.body]
