"""Service bindings: ``env.OTHER`` for another worker served beside this one.

``await env.OTHER.fetch(url_or_request, **options)`` runs the other worker's ``fetch`` and
returns its ``Response`` (no network hop: the router hands the request over). Its body streams
(``workers._remote_body``): ``await response.text()`` reads it whole, ``response.iter_bytes()``
as it comes, and returning the response from this worker's fetch streams it to the client.
``await env.OTHER.some_method(*args)`` calls ``some_method`` on its ``Default`` class (or the
``WorkerEntrypoint`` class the binding names with ``entrypoint``); arguments and the result
convert as :mod:`workers._rpc` says, and an exception it raises is raised here as
:class:`workers.RpcError` (also an instance of the builtin of that name, e.g. ``ValueError``).
"""

from __future__ import annotations

from asyncio import Future
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import _bindings
from ._do_gate import outgoing
from ._remote_body import RemoteBody
from ._rpc import TAG, from_rpc, python_value, remote_error, to_rpc_args


@contextmanager
def host_errors(binding: str, method: str) -> Iterator[None]:
    """A host call refused by the host (no such worker, a timeout...) as a ``BindingError``."""
    try:
        yield
    except _bindings.JsException as exc:
        if getattr(exc, "name", None) != "HostCallError":
            raise
        raise _bindings.BindingError(binding, method, str(exc.code), str(exc.message)) from None


def reply_result(reply: Any) -> Any:
    """The Python value of an RPC reply (JSON text, or a JS value), or the remote exception,
    raised here."""
    if type(reply) is str:
        reply = _bindings._from_json(reply)  # JsDicts: no JsProxy, nothing to convert but tags
        if reply.get("outcome") == "ok":
            return python_value(reply.get("value"))
    elif reply.outcome == "ok":
        return from_rpc(reply.value)
    error = reply.error
    tb = getattr(error, "traceback", None)
    raise remote_error(str(error.name), str(error.message), None if tb is None else str(tb))


def rpc_method(
    label: str, method: str, call: Callable[[str, tuple[Any, ...]], Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    """``target.method`` of an RPC target (``label``: how messages name the target)."""
    if method.startswith("_"):
        raise AttributeError(
            f"{label}.{method}: names starting with '_' are private and cannot be called over RPC"
        )

    def proxy(*args: Any, **kwargs: Any) -> Awaitable[Any]:
        if kwargs:
            raise TypeError(
                f"{label}.{method}(): RPC takes positional arguments only "
                f"(got {', '.join(kwargs)}=...); pass them in order"
            )
        return call(method, args)  # the call's own coroutine: no second one around it

    proxy.__name__ = method
    return proxy


def _request_data(input: Any, options: dict[str, Any]) -> dict[str, Any] | None:
    """A plain ``fetch(url, method=, headers=, body=)`` without building a JS Request."""
    if not isinstance(input, str) or set(options) - {"method", "headers", "body"}:
        return None
    from . import _headers

    method = options.get("method") or "GET"
    method = getattr(method, "value", None) or str(method).upper()
    body = options.get("body")
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    elif body is not None and not isinstance(body, bytes):
        return None
    if body is not None and method in ("GET", "HEAD"):
        raise TypeError(
            f"a {method} request cannot have a body; use method='POST' (or PUT, PATCH) "
            "to send one, or put the data in the URL's query string"
        )
    pairs = [list(pair) for pair in _headers.to_pairs(options.get("headers"))]
    return {TAG: "Request", "method": method, "url": input, "headers": pairs, "body": body}


def _absolute(binding: str, url: str) -> str:
    if "://" not in url:
        raise TypeError(
            f"{binding}.fetch(): {url!r} is not an absolute URL; use one such as "
            f"'https://{binding.lower()}/path' (any host: the request goes to the bound worker)"
        )
    return url


class ServiceBinding:
    """A worker this one may call (wrangler ``services = [{binding, service, entrypoint}]``)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"ServiceBinding({self._name})"

    async def fetch(self, input: Any, **options: Any) -> Any:
        """Sends a request to the bound worker's ``fetch``; returns its ``Response``."""
        data = _request_data(input, options)
        if data is None:
            from ._request import Request

            request = input if isinstance(input, Request) and not options else Request(
                input, **options
            )
            return await self._call("fetch", (request,), check_url=True)
        data["url"] = _absolute(self._name, data["url"])
        return await self._call("fetch", (data,))

    async def _call(self, method: str, args: tuple[Any, ...], check_url: bool = False) -> Any:
        if check_url:
            _absolute(self._name, args[0].url)
        fns = _bindings._rpc_fns or _bindings.rpc_fns(self._name, method)
        with host_errors(self._name, method):
            if _bindings._flat(args):
                pending = fns[0](self._name, method, *args)
            else:
                pending = fns[1](self._name, method, await to_rpc_args(args))
            # Answered within the thread's short wait (host-channel.ts hostCallWait), or a
            # promise (a Future here); inside a Durable Object's event, its input gate is open
            # while that is awaited.
            reply = await outgoing(pending) if isinstance(pending, Future) else pending
        result = reply_result(reply)
        if method == "fetch":
            stream = getattr(result, "_stream", None)
            if isinstance(stream, RemoteBody):
                stream.binding = self._name  # its chunks are read on this binding
        return result

    def __getattr__(self, method: str) -> Any:
        return rpc_method(self._name, method, self._call)
