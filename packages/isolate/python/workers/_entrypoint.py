"""``WorkerEntrypoint``, the execution context (``ctx``) and ``wait_until``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

_log = logging.getLogger("workers")
# Tasks handed to wait_until: strong references so they are not collected half-way.
_pending: set[asyncio.Future[Any]] = set()

F = TypeVar("F", bound=Callable[..., Any])


def _finished(task: asyncio.Future[Any]) -> None:
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        _log.error("a task passed to ctx.wait_until() failed", exc_info=task.exception())


def wait_until(awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
    """Keep running ``awaitable`` after the response has been sent; failures are logged."""
    task = asyncio.ensure_future(awaitable)
    _pending.add(task)
    task.add_done_callback(_finished)
    return task


class Context:
    """The execution context of one request or event (Cloudflare's ``ExecutionContext``)."""

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        self._tasks: list[asyncio.Future[Any]] | None = None

    def wait_until(self, awaitable: Awaitable[Any]) -> None:
        """Keep running ``awaitable`` after the response has been sent; failures are logged."""
        task = wait_until(awaitable)
        if self._tasks is None:
            self._tasks = []
        self._tasks.append(task)

    # The JS spelling, which Cloudflare's examples use too.
    waitUntil = wait_until

    async def _settle(self) -> None:
        # A scheduled or queue event is over only when its wait_until work is (as on
        # Cloudflare); failures were logged by _finished already.
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def pass_through_on_exception(self) -> None:
        raise NotImplementedError("pass_through_on_exception() has no origin to pass to here")

    passThroughOnException = pass_through_on_exception


class WorkerEntrypoint:
    """Base class of a worker's ``Default`` entry point: ``self.ctx`` and ``self.env``."""

    ctx: Context
    env: Any

    def __init__(self, ctx: Context, env: Any) -> None:
        self.ctx = ctx
        self.env = env


def handler(func: F) -> F:
    """Cloudflare marks ``on_fetch`` with this; requests here are already ``workers.Request``."""
    return func
