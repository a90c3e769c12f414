"""Streamed bodies between Python and the isolate's JS side.

A response body that is an async iterator (or a generator) of ``bytes``/``str`` leaves the
handler as a :class:`StreamedResponse`; the worker thread pulls its chunks one at a time, only
as fast as the client reads them, and closing the stream early closes the iterator.
"""

import asyncio
from collections import deque
from collections.abc import Iterator


def is_stream_body(body):
    """An async iterable, or a (sync) iterator such as a generator; never str/bytes/JS objects."""
    if hasattr(body, "constructor"):
        return False
    return hasattr(body, "__aiter__") or isinstance(body, Iterator)


def chunk_bytes(chunk):
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    if hasattr(chunk, "to_bytes"):
        # A JS Uint8Array / ArrayBuffer (JsProxy).
        return chunk.to_bytes()
    raise TypeError(
        f"a streamed body must yield bytes or str, got {type(chunk).__name__}"
    )


async def iter_bytes(source):
    """The chunks of an async iterable or iterator, as non-empty ``bytes``."""
    try:
        if hasattr(source, "__aiter__"):
            async for chunk in source:
                data = chunk_bytes(chunk)
                if data:
                    yield data
        else:
            for chunk in source:
                data = chunk_bytes(chunk)
                if data:
                    yield data
    finally:
        close = getattr(source, "aclose", None) or getattr(source, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result


async def js_chunks(source):
    """Chunks as JS ``Uint8Array`` (copied out of the Python heap), for the worker thread."""
    from pyodide.ffi import to_js

    async for data in iter_bytes(source):
        yield to_js(data)


class StreamedResponse:
    """A response whose body the worker thread pulls chunk by chunk (see ``request-bridge.ts``).

    The chunks stay Python ``bytes``: the thread copies each out of the heap straight into a
    buffer it reuses (``python-chunks.ts``), rather than into a new JS array per chunk."""

    __slots__ = ("status", "headers", "chunks")

    def __init__(self, status, headers, source):
        self.status = status
        self.headers = headers
        self.chunks = iter_bytes(source)

    def head(self):
        return (self.status, [tuple(pair) for pair in self.headers])


class WebSocketUpgrade:
    """A 101 answer: the worker thread connects ``socket`` (a WebSocketPair's client end) to
    the real client through the host (see ``websocket-pair.ts``)."""

    __slots__ = ("headers", "socket")

    def __init__(self, headers, socket):
        self.headers = headers
        self.socket = socket

    def head(self):
        return [tuple(pair) for pair in self.headers]


def to_readable_stream(source):
    """A JS ``ReadableStream`` pulling from a Python async iterable (for JS APIs that want one)."""
    from js import Object, ReadableStream
    from pyodide.ffi import create_proxy, to_js

    chunks = js_chunks(source)
    proxies = []

    def release():
        for proxy in proxies:
            proxy.destroy()
        proxies.clear()

    async def pull(controller):
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            controller.close()
            release()
            return
        except Exception as exc:
            controller.error(str(exc))
            release()
            return
        controller.enqueue(chunk)

    async def cancel(_reason=None):
        await chunks.aclose()
        release()

    proxies.extend([create_proxy(pull), create_proxy(cancel)])
    source_init = to_js(
        {"pull": proxies[0], "cancel": proxies[1]},
        dict_converter=Object.fromEntries,
        create_pyproxies=False,
    )
    strategy = to_js({"highWaterMark": 0}, dict_converter=Object.fromEntries)
    return ReadableStream.new(source_init, strategy)


class BoundedChunks:
    """A small queue between a producer (an ASGI app's ``send``) and the response stream.

    ``put`` waits while ``limit`` chunks are queued, so the app is held back at the pace the
    client reads; once the reader is gone (``close``), ``put`` returns at once and drops data.
    """

    _END = object()

    def __init__(self, limit=8):
        self._queue = deque()
        self._limit = limit
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self.closed = False
        self._error = None

    async def put(self, chunk):
        while len(self._queue) >= self._limit and not self.closed:
            self._writable.clear()
            await self._writable.wait()
        if self.closed:
            return
        self._queue.append(chunk)
        self._readable.set()

    def end(self, error=None):
        self._error = error
        self._queue.append(self._END)
        self._readable.set()

    def close(self):
        self.closed = True
        self._queue.clear()
        self._writable.set()

    async def __aiter__(self):
        try:
            while True:
                while not self._queue:
                    self._readable.clear()
                    await self._readable.wait()
                chunk = self._queue.popleft()
                self._writable.set()
                if chunk is self._END:
                    if self._error is not None:
                        raise self._error
                    return
                yield chunk
        finally:
            self.close()
