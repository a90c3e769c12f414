"""The ``workers`` module: pyworkers' implementation of Cloudflare's Python Workers SDK.

``from workers import WorkerEntrypoint, Request, Response, fetch``; the ASGI and WSGI adapters
are the submodules ``workers.asgi`` and ``workers.wsgi``.
"""

from ._entrypoint import Context, WorkerEntrypoint, handler
from ._env import Env
from ._fetch import fetch
from ._request import Request
from ._response import FetchResponse, Response

__all__ = [
    "Context",
    "Env",
    "FetchResponse",
    "Request",
    "Response",
    "WorkerEntrypoint",
    "fetch",
    "handler",
]
