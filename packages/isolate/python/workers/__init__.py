"""The ``workers`` module: pyworkers' implementation of Cloudflare's Python Workers SDK."""

from ._request import Request
from ._response import Response
from ._entrypoint import WorkerEntrypoint

__all__ = ["Request", "Response", "WorkerEntrypoint"]
