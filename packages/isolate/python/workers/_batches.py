"""The chunks of a streamed body, handed to the worker thread several at a time.

One JS -> Python step per chunk (a call, an eager Task, a proxy per result) cost more than the
chunk's bytes: ~90 us per step, so 64 KiB chunks spent ~40% of the isolate thread's time
there. A step now takes every chunk the producer has ready, up to a byte limit, and returns
as soon as the producer has to wait for something (a server-sent event, a queue, a timer):
what it gave before goes out at once, and the wait is carried over to the next step.
"""

import asyncio


class _Resume:
    """Awaits an awaitable that was stepped by hand (``it.send(None)``) and suspended on
    ``pending`` (what it yielded): the awaiting Task takes over the wait from there."""

    __slots__ = ("_it", "_pending")

    def __init__(self, it, pending):
        self._it = it
        self._pending = pending

    def __await__(self):
        it = self._it
        pending = self._pending
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # cancellation (or a Future's error) goes in
                try:
                    pending = it.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = it.send(sent)
                except StopIteration as stop:
                    return stop.value


class ChunkBatches:
    """Batches of ``chunks`` (an async iterator of non-empty ``bytes``), see :meth:`next`."""

    __slots__ = ("_chunks", "_waiting", "_error", "_ended")

    def __init__(self, chunks):
        self._chunks = chunks
        # The producer's next chunk, started by hand and suspended: (iterator, what it yielded).
        self._waiting = None
        # Raised by the producer after chunks it had given: raised on the next step.
        self._error = None
        self._ended = False

    async def next(self, limit, join=True):
        """The next chunks (a list, at least one), or None at the end. Takes ready chunks
        until they reach ``limit`` bytes; waits only while it has none. ``join``: several
        chunks come as one ``bytes`` (see below; :func:`step_into` copies them itself)."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        parts = []
        size = 0
        while not self._ended and size < limit:
            waiting = self._waiting
            self._waiting = None
            try:
                if waiting is not None:
                    chunk = await _Resume(*waiting)
                else:
                    it = self._chunks.__anext__().__await__()
                    try:
                        pending = it.send(None)
                    except StopIteration as stop:
                        chunk = stop.value
                    else:
                        if parts:
                            # Not ready: what we have goes now; the next step waits for it.
                            self._waiting = (it, pending)
                            break
                        chunk = await _Resume(it, pending)
            except StopAsyncIteration:
                self._ended = True
                break
            except Exception as exc:
                if not parts:
                    raise
                self._error = exc
                break
            parts.append(chunk)
            size += len(chunk)
        if not parts:
            return None
        # One bytes for the step: the worker thread reads each bytes object through the FFI
        # (a proxy and a buffer view, ~13 us each), so once per step instead of per chunk:
        # 12% less isolate CPU for a stream of 64 KiB chunks (router README, "Streaming").
        # Not for a large chunk, which would be copied whole once more.
        return _joined(parts, limit) if join else parts

    async def aclose(self):
        """Stops early: a wait carried over is cancelled as a Task's would be, then the
        iterator is closed (its ``finally`` blocks run)."""
        waiting = self._waiting
        self._waiting = None
        if waiting is not None:
            it, _ = waiting
            try:
                pending = it.throw(asyncio.CancelledError())
                # It awaits again while cleaning up: let it, as its Task would.
                await _Resume(it, pending)
            except (asyncio.CancelledError, Exception):  # noqa: S110 - its answer to the cancel
                pass
        await self._chunks.aclose()


class StepBuffer:
    """One buffer per isolate that a step's ready chunks are copied into, for the worker thread
    to copy out of the heap in place right after the call (``python-chunks.ts``): no ``bytes``
    joined, no list, proxy or buffer view per step. Only a step that finished within its call
    uses it (nothing else runs in between); a step that waited gives its chunks as before."""

    __slots__ = ("buffer", "_view")

    def __init__(self, size):
        self.buffer = bytearray(size)
        self._view = memoryview(self.buffer)

    def fill(self, parts):
        """Copies ``parts`` in and returns their length, or None when they do not fit."""
        view = self._view
        if sum(map(len, parts)) > len(view):
            return None
        at = 0
        for part in parts:
            end = at + len(part)
            view[at:end] = part
            at = end
        return at


def step_into(batches, limit, buffer, eager):
    """A step of ``batches`` run by ``eager`` (an eager Task runner): the number of bytes it
    copied into ``buffer`` (a :class:`StepBuffer`) when it finished within the call, else what
    :meth:`ChunkBatches.next` gives (a list, None at the end; or a Task that does, if the
    producer waits: its chunks are joined as ``next`` joins them)."""
    later = [False]

    async def step():
        parts = await batches.next(limit, join=False)
        if later[0] and parts is not None and len(parts) > 1:
            return _joined(parts, limit)
        return parts

    result = eager(step())
    if isinstance(result, asyncio.Task):
        later[0] = True
        return result
    if result is None:
        return None
    filled = buffer.fill(result)
    return _joined(result, limit) if filled is None else filled


def _joined(parts, limit):
    """What ``next`` gives for ``parts``: one ``bytes`` unless that copies a large chunk."""
    if len(parts) > 1 and sum(map(len, parts)) <= 2 * limit:
        return [b"".join(parts)]
    return parts
