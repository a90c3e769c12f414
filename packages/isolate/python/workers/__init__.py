"""The ``workers`` module: pyworkers' implementation of Cloudflare's Python Workers SDK.

``from workers import WorkerEntrypoint, Request, Response, fetch``; the ASGI and WSGI adapters
are the submodules ``workers.asgi`` and ``workers.wsgi``.
"""

from ._bindings import BindingError
from ._blob import Blob, BlobEnding, File
from ._convert import JsDict
from ._do_namespace import DurableObjectNamespace, DurableObjectStub
from ._do_websockets import HibernatableWebSocket, WebSocketRequestResponsePair
from ._durable_object import (
    DurableObject,
    DurableObjectAbort,
    DurableObjectId,
    DurableObjectState,
)
from ._entrypoint import Context, WorkerEntrypoint, handler, wait_until
from ._env import Env, env, patch_env
from ._fetch import fetch
from ._formdata import FormData, FormDataValue
from ._imports import import_from_javascript
from ._request import Request
from ._response import FetchResponse, Response
from ._rpc import RpcError, python_from_rpc, python_to_rpc
from ._service import ServiceBinding

__all__ = [
    "BindingError",
    "Blob",
    "BlobEnding",
    "File",
    "FormData",
    "FormDataValue",
    "JsDict",
    "DurableObject",
    "DurableObjectAbort",
    "DurableObjectId",
    "DurableObjectNamespace",
    "DurableObjectState",
    "DurableObjectStub",
    "Context",
    "Env",
    "FetchResponse",
    "HibernatableWebSocket",
    "Request",
    "Response",
    "RpcError",
    "ServiceBinding",
    "WebSocketRequestResponsePair",
    "WorkerEntrypoint",
    "fetch",
    "env",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "waitUntil",
    "wait_until",
]

# Cloudflare's module-level spellings: ``from workers import env, wait_until``.
waitUntil = wait_until
