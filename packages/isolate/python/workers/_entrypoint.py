import asyncio
import logging

_log = logging.getLogger("workers")
# Tasks handed to wait_until: strong references so they are not collected half-way.
_pending = set()


def _finished(task):
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        _log.error("a task passed to ctx.wait_until() failed", exc_info=task.exception())


def wait_until(awaitable):
    """Keep running ``awaitable`` after the response has been sent; failures are logged."""
    task = asyncio.ensure_future(awaitable)
    _pending.add(task)
    task.add_done_callback(_finished)


class Context:
    """The execution context of one request (Cloudflare's ``ExecutionContext``)."""

    __slots__ = ()

    def wait_until(self, awaitable):
        """Keep running ``awaitable`` after the response has been sent; failures are logged."""
        wait_until(awaitable)

    # The JS spelling, which Cloudflare's examples use too.
    waitUntil = wait_until

    def pass_through_on_exception(self):
        raise NotImplementedError("pass_through_on_exception() has no origin to pass to here")

    passThroughOnException = pass_through_on_exception


class WorkerEntrypoint:
    """Base class of a worker's ``Default`` entry point: ``self.ctx`` and ``self.env``."""

    def __init__(self, ctx, env):
        self.ctx = ctx
        self.env = env


def handler(func):
    """Cloudflare marks ``on_fetch`` with this; requests here are already ``workers.Request``."""
    return func
