"""``env.MY_DO``: a Durable Object namespace, its ids and stubs.

``ns.id_from_name("room-1")`` (``idFromName``), ``ns.new_unique_id()``, ``ns.id_from_string(s)``
give ids (the host makes and checks them: synchronous, as in JS); ``ns.get(id)`` or
``ns.get_by_name(name)`` a stub. ``await stub.fetch(url_or_request)`` runs the object's
``fetch`` (a body it streams comes as it is produced: ``workers._remote_body``);
``await stub.some_method(*args)`` calls its method over RPC (values convert as
:mod:`workers._rpc` says; a remote exception is raised here as :class:`workers.RpcError`).
The router delivers both to the one live instance of that id, wherever it runs.
"""

from __future__ import annotations

from asyncio import Future
from typing import Any

from . import _bindings
from ._do_gate import outgoing
from ._durable_object import DurableObjectId
from ._remote_body import RemoteBody

# The host-call method a stub's fetch/RPC goes out as: args [id, name, method, *rpc_args].
STUB_METHOD = "stub"


class DurableObjectNamespace:
    """A Durable Object binding (wrangler ``durable_objects.bindings``)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"DurableObjectNamespace({self._name})"

    def id_from_name(self, name: str) -> DurableObjectId:
        """The id for ``name``: the same name always gives the same object."""
        if not isinstance(name, str):
            raise TypeError(f"{self._name}.id_from_name() takes a str, got {type(name).__name__}")
        return DurableObjectId(str(_bindings.call_sync(self._name, "idFromName", name)), name)

    def new_unique_id(self, options: Any = None) -> DurableObjectId:
        """A new random id."""
        return DurableObjectId(str(_bindings.call_sync(self._name, "newUniqueId")))

    def id_from_string(self, id: str) -> DurableObjectId:
        """The id ``str(id)`` gave (refused when another namespace made it)."""
        if isinstance(id, DurableObjectId):
            id = str(id)
        return DurableObjectId(str(_bindings.call_sync(self._name, "idFromString", id)))

    idFromName = id_from_name
    newUniqueId = new_unique_id
    idFromString = id_from_string

    def get(self, id: DurableObjectId, options: Any = None) -> DurableObjectStub:
        """A stub for the object ``id``."""
        if not isinstance(id, DurableObjectId):
            raise TypeError(
                f"{self._name}.get() takes an id from id_from_name/new_unique_id/id_from_string, "
                f"got {type(id).__name__}"
            )
        return DurableObjectStub(self._name, id)

    def get_by_name(self, name: str, options: Any = None) -> DurableObjectStub:
        """``get(id_from_name(name))``."""
        return self.get(self.id_from_name(name))

    getByName = get_by_name

    def jurisdiction(self, name: str) -> DurableObjectNamespace:
        return self


class DurableObjectStub:
    """A stub of one object: ``await stub.fetch(...)``, ``await stub.method(*args)``."""

    __slots__ = ("_binding", "id", "_methods")

    def __init__(self, binding: str, object_id: DurableObjectId) -> None:
        self._binding = binding
        self.id = object_id
        self._methods: dict[str, Any] = {}  # stub.method, made once per name

    @property
    def name(self) -> str | None:
        return self.id.name

    def __repr__(self) -> str:
        return f"DurableObjectStub({self._binding}, {self.id})"

    async def fetch(self, input: Any, **options: Any) -> Any:
        """Sends a request to the object's ``fetch``; returns its ``Response``."""
        from ._service import _absolute, _request_data

        data = _request_data(input, options)
        if data is None:
            from ._request import Request

            request = (
                input if isinstance(input, Request) and not options else Request(input, **options)
            )
            _absolute(self._binding, request.url)
            return self._streaming(await self._call("fetch", (request,)))
        data["url"] = _absolute(self._binding, data["url"])
        return self._streaming(await self._call("fetch", (data,)))

    def _streaming(self, response: Any) -> Any:
        # A body the object streams is read on this binding (workers._remote_body).
        stream = getattr(response, "_stream", None)
        if isinstance(stream, RemoteBody):
            stream.binding = self._binding
        return response

    async def _call(self, method: str, args: tuple[Any, ...]) -> Any:
        binding = self._binding
        fns = _bindings._rpc_fns or _bindings.rpc_fns(binding, method)
        object_id = self.id
        name = object_id.name
        try:
            if name is not None and _bindings._flat(args):
                pending = fns[0](binding, STUB_METHOD, str(object_id), name, method, *args)
            else:
                from ._rpc import to_rpc_args

                js_args = await to_rpc_args([str(object_id), name, method, *args])
                pending = fns[1](binding, STUB_METHOD, js_args)
            # Most calls are answered while the thread waits: no promise, no turn of the event
            # loop. Else it is a promise (a Future here); inside an object's event, its input
            # gate is open while that is awaited (_do_gate).
            reply = await outgoing(pending) if isinstance(pending, Future) else pending
        except _bindings.JsException as exc:
            if getattr(exc, "name", None) != "HostCallError":
                raise
            raise _bindings.BindingError(binding, method, str(exc.code), str(exc.message)) from None
        from ._service import reply_result

        return reply_result(reply)

    def __getattr__(self, method: str) -> Any:
        methods = self._methods
        fn = methods.get(method)
        if fn is None:
            from ._service import rpc_method

            fn = methods[method] = rpc_method(f"{self._binding} stub", method, self._call)
        return fn
