"""Snapshot hygiene: what runs around a worker's top level at build time, and after a restore.

Imported at build time (so it is part of every dedicated snapshot) by the isolate runtime.
"""

import gc
import io
import os
import sys

_drawn = 0
_real_urandom = os.urandom


def _counting_urandom(n):
    global _drawn
    _drawn += int(n)
    return _real_urandom(n)


def begin_top_level():
    """Count OS entropy drawn while the top level runs: ``secrets``, ``uuid4``, ``os.urandom``."""
    global _drawn
    _drawn = 0
    os.urandom = _counting_urandom
    random = sys.modules.get("random")
    if random is not None and getattr(random, "_urandom", None) is _real_urandom:
        random._urandom = _counting_urandom


def end_top_level():
    """Stop counting; return the number of bytes the top level drew."""
    os.urandom = _real_urandom
    random = sys.modules.get("random")
    # `random` imported during the top level bound its `_urandom` to the counting wrapper.
    if random is not None and getattr(random, "_urandom", None) is _counting_urandom:
        random._urandom = _real_urandom
    return _drawn


def prepare_snapshot():
    """Close files the top level left open (stale after a restore: the FS is not in the snapshot).

    Only objects on a real file descriptor above 2 count; in-memory buffers (``io.StringIO``,
    ``io.BytesIO``) and the standard streams (with the buffers under them) stay as they are.
    """
    closed = []
    for obj in gc.get_objects():
        if not isinstance(obj, io.IOBase):
            continue
        try:
            if obj.closed or obj.fileno() <= 2:
                continue
        except (OSError, ValueError, AttributeError):  # no descriptor: an in-memory buffer
            continue
        closed.append(str(getattr(obj, "name", repr(obj))))
        try:
            obj.close()
        except OSError:
            pass
    gc.collect()
    return closed


def js_holders(worker_root):
    """(qualified name, JsProxy) of module-level variables of the worker's own modules."""
    from pyodide.ffi import JsProxy

    found = []
    for mod_name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None) or ""
        if not path.startswith(worker_root):
            continue
        for var, value in list(vars(mod).items()):
            candidates = [(var, value)]
            if isinstance(value, (list, tuple, set, frozenset)):
                candidates += [(f"{var}[{i}]", v) for i, v in enumerate(value)]
            elif isinstance(value, dict):
                candidates += [(f"{var}[{k!r}]", v) for k, v in value.items()]
            for name, v in candidates:
                if isinstance(v, JsProxy):
                    found.append((f"{mod_name}.{name}", v))
    return found


def after_restore():
    """Fresh entropy for a restored interpreter: re-seed ``random`` from the OS.

    ``secrets``, ``uuid.uuid4`` and ``os.urandom`` read the OS source on every call, so they are
    fresh already; only the state ``random`` copied into the snapshot needs a new seed.
    """
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
