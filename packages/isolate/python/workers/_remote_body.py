"""The body of a fetch's response still streaming from the other worker: a service binding's
fetch (with or without an ``entrypoint``) or a Durable Object stub's (its table may then be
on the object's host process; the host routes each read to it by the id's prefix).

The router keeps the target's body a stream and answers the fetch with what was ready plus a
stream id; this iterator takes the rest, one host call per step on the binding that made the
fetch (each answer: the chunks the router has ready, up to ~1 MiB, or null at the end), so the
target produces only as fast as this worker reads. A body is cancelled (the target sees the
disconnect) when it is closed, and otherwise when the request that fetched it is over: its
response sent and its ``wait_until`` work done (see :func:`request_scope`). One the router
does not hear from for 30 s it cancels by itself.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio import Future
from typing import Any

from . import _bindings
from ._do_gate import outgoing

try:
    from pyodide.ffi import JsException, jsnull
except ImportError:  # pragma: no cover - CPython
    jsnull = None

    class JsException(Exception):  # noqa: N818 - Pyodide's name
        pass


# Host-call methods of a service binding (the router's services/response-streams.ts).
READ = "__body_read__"
CANCEL = "__body_cancel__"

# The bodies the running request fetched and has not finished reading (None outside one).
_opened: contextvars.ContextVar[list[RemoteBody] | None] = contextvars.ContextVar(
    "pyworkers_remote_bodies", default=None
)


class RemoteBody:
    """An async iterator of the ``bytes`` of one streamed response body (read it once)."""

    __slots__ = ("binding", "_id", "_first", "_done", "_ahead")

    def __init__(self, stream_id: str, first: bytes | None, binding: str = "") -> None:
        self.binding = binding
        self._id = stream_id
        self._first = first or None
        self._done = False
        # The next read, sent when the last chunk came: it travels while this one is used.
        self._ahead: asyncio.Future[Any] | None = None
        opened = _opened.get()
        if opened is not None:
            opened.append(self)

    def __repr__(self) -> str:
        return f"RemoteBody({self.binding}, {self._id})"

    def __aiter__(self) -> RemoteBody:
        return self

    async def __anext__(self) -> bytes:
        first = self._first
        if first is not None:
            self._first = None
            if self._ahead is None and not self._done:
                self._ahead = asyncio.ensure_future(self._read())
            return first
        if self._done:
            raise StopAsyncIteration
        ahead, self._ahead = self._ahead, None
        binding = self.binding
        try:
            if ahead is not None:
                reply = await outgoing(ahead)
            else:
                host = _bindings._host(binding, "fetch")
                pending = host.callWaitFlat(binding, READ, self._id)
                # Answered within the thread's short wait, or a promise; inside a Durable
                # Object's event its input gate is open while that is awaited (as for a fetch).
                reply = await outgoing(pending) if isinstance(pending, Future) else pending
        except JsException as exc:
            self._done = True
            if getattr(exc, "name", None) != "HostCallError":
                raise
            raise _bindings.BindingError(
                binding, "fetch", str(exc.code), f"reading the response body: {exc.message}"
            ) from None
        except BaseException:
            # Cancelled half-way (the client left): the router's read may still answer; tell it
            # the rest is not wanted.
            self.cancel()
            raise
        chunk = reply.value
        if chunk is None or chunk is jsnull:
            self._done = True
            raise StopAsyncIteration
        self._ahead = asyncio.ensure_future(self._read())
        return chunk.to_bytes()

    async def _read(self) -> Any:
        return await _bindings._host(self.binding, "fetch").callFlat(self.binding, READ, self._id)

    def cancel(self) -> None:
        """Drops the rest of the body: the router stops reading it and the target sees the
        disconnect. Does nothing once the body was read to its end."""
        self._first = None
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.cancel()
        if self._done:
            return
        self._done = True
        # Nobody awaits the answer (a body already gone needs no cancel).
        _bindings._host(self.binding, "fetch").post(self.binding, CANCEL, self._id)

    async def aclose(self) -> None:
        self.cancel()


def request_scope() -> list[RemoteBody]:
    """Starts collecting the bodies the running request fetches (call it in the request's Task)."""
    opened: list[RemoteBody] = []
    _opened.set(opened)
    return opened


def cancel_all(opened: list[RemoteBody], ctx: Any) -> None:
    """The request is over: cancels the bodies it left unread, once its ``wait_until`` work
    (which may still read them) is done too."""
    if not opened:
        return
    if ctx is not None and ctx._tasks:
        asyncio.ensure_future(_cancel_after(opened, ctx))
        return
    for body in opened:
        body.cancel()
    opened.clear()


async def _cancel_after(opened: list[RemoteBody], ctx: Any) -> None:
    await ctx._settle()
    for body in opened:
        body.cancel()
    opened.clear()


async def closing(chunks: Any, opened: list[RemoteBody], ctx: Any) -> Any:
    """``chunks`` (a streamed response's), then :func:`cancel_all` once they ended or were
    closed: a body the response streams is read until then."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()
        cancel_all(opened, ctx)
