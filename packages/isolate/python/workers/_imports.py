"""``import_from_javascript``: the JS modules a Python worker may import, as on Cloudflare."""

from __future__ import annotations

import types
from typing import Any

from ._entrypoint import WorkerEntrypoint, wait_until
from ._env import env


def _cloudflare_workers() -> types.ModuleType:
    module = types.ModuleType("cloudflare:workers")
    module.env = env  # type: ignore[attr-defined]
    module.waitUntil = wait_until  # type: ignore[attr-defined]
    module.wait_until = wait_until  # type: ignore[attr-defined]
    module.WorkerEntrypoint = WorkerEntrypoint  # type: ignore[attr-defined]
    return module


_MODULES = {"cloudflare:workers": _cloudflare_workers()}


def import_from_javascript(module_name: str) -> Any:
    """Imports a JavaScript module from Python.

    ``import_from_javascript("cloudflare:workers")`` gives ``env`` and ``waitUntil``, as on
    Cloudflare. Arbitrary JS modules are not importable here: a worker reaches the host only
    through its declared bindings.
    """
    module = _MODULES.get(module_name)
    if module is not None:
        return module
    if module_name == "cloudflare:sockets":
        raise ImportError(
            "Failed to import 'cloudflare:sockets': raw TCP sockets are not available in "
            "pyworkers; use fetch() (or requests/httpx) for outbound HTTP"
        )
    raise ImportError(
        f"Failed to import {module_name!r}: pyworkers provides only 'cloudflare:workers' to "
        "import_from_javascript"
    )
