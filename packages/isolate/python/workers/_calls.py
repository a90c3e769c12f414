"""Calling a worker's handlers the way Cloudflare's SDK does: by their signature.

Cloudflare hands a handler as many of ``(event, env, ctx)`` as it declares, so
``async def fetch(self)``, ``fetch(self, request)`` and ``fetch(self, request, env, ctx)`` all
work, and the same for ``scheduled``, ``queue`` and the module-level ``on_*`` functions. Pure
Python: importable (and tested) under CPython.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def positional_arity(func: Callable[..., Any]) -> int | None:
    """How many positional arguments ``func`` takes; ``None`` when it takes any (``*args``)
    or its signature cannot be read (a builtin): then it gets all of them."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for param in params:
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            return None
        if param.kind in _POSITIONAL:
            count += 1
    return count


def call_relaxed(func: Callable[..., Any], arity: int | None, args: tuple[Any, ...]) -> Any:
    """Calls ``func`` with the first ``arity`` of ``args`` (all of them when ``arity`` is None)."""
    return func(*args) if arity is None else func(*args[:arity])


class MethodCaller:
    """Calls ``handler`` on a fresh ``cls(ctx, env)`` per event, with as many of
    ``(event, env, ctx)`` as the method declares (read once, on the first call)."""

    __slots__ = ("cls", "name", "_arity", "_known")

    def __init__(self, cls: type, name: str) -> None:
        self.cls = cls
        self.name = name
        self._arity: int | None = None
        self._known = False

    def __call__(self, event: Any, env: Any, ctx: Any) -> Any:
        method = getattr(self.cls(ctx, env), self.name)
        if not self._known:
            self._arity = positional_arity(method)
            self._known = True
        return call_relaxed(method, self._arity, (event, env, ctx))


class FunctionCaller:
    """Calls a module-level ``on_fetch``/``on_scheduled``/``on_queue`` by its signature."""

    __slots__ = ("func", "_arity")

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self._arity = positional_arity(func)

    def __call__(self, event: Any, env: Any, ctx: Any) -> Any:
        return call_relaxed(self.func, self._arity, (event, env, ctx))


# The events a worker may handle, in the order an error message lists them.
EVENTS = ("fetch", "scheduled", "queue")


def _rpc_methods(cls: type) -> list[str]:
    """Public methods a class defines beyond ``WorkerEntrypoint``'s: what RPC can call."""
    return [
        name
        for klass in cls.__mro__
        if klass.__module__ not in ("builtins", "workers._entrypoint")
        for name, value in vars(klass).items()
        if not name.startswith("_") and callable(value)
    ]


def resolve_handlers(module: Any) -> dict[str, Callable[[Any, Any, Any], Any]]:
    """The worker's handlers by event name: ``class Default`` methods, else ``on_<event>``.

    Raises ``TypeError`` saying what to define when the module has none.
    """
    name = getattr(module, "__name__", "the worker")
    default = getattr(module, "Default", None)
    if default is not None:
        if not isinstance(default, type):
            raise TypeError(f"{name}.Default must be a class (class Default(WorkerEntrypoint))")
        found = {e: MethodCaller(default, e) for e in EVENTS if callable(getattr(default, e, None))}
        if not found and not _rpc_methods(default):
            raise TypeError(
                f"{name}.Default has no fetch(self, request) method; add one "
                "(or scheduled(self, controller, env, ctx) / queue(self, batch, env, ctx), "
                "or methods other workers call over RPC)"
            )
        return found
    found = {}
    for event in EVENTS:
        func = getattr(module, f"on_{event}", None)
        if callable(func):
            found[event] = FunctionCaller(func)
    if not found:
        raise TypeError(
            f"{name} defines neither class Default(WorkerEntrypoint) with "
            "async def fetch(self, request) nor on_fetch(request, env); define one of them"
        )
    return found


def missing_handler_parts(module_name: str, event: str) -> tuple[str, str]:
    """What is wrong and how to fix it, for an event the worker has no handler for."""
    signature = {
        "fetch": "async def fetch(self, request)",
        "scheduled": "async def scheduled(self, controller, env, ctx)",
        "queue": "async def queue(self, batch, env, ctx)",
    }[event]
    return (
        f"{module_name} has no {event} handler",
        f"define {signature} on class Default (or a module-level on_{event})",
    )


def missing_handler(module_name: str, event: str) -> str:
    """The message for an event the worker has no handler for."""
    return ": ".join(missing_handler_parts(module_name, event))
