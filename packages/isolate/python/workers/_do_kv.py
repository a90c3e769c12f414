"""``ctx.storage.kv``: the synchronous key-value API of a SQLite-backed Durable Object, as on
Cloudflare (``ctx.storage.kv.get(key)``, ``put(key, value)``, ``delete(key)``, ``list()``).

Each call answers at once. A read is answered from what this instance already knows of its keys
(the cache the async API keeps), or with a blocking host call; a write goes into the same queue
as the async API's ``put``/``delete``, so both APIs see one order, and it is durable before the
object's answer leaves (the output gate), as ``await put()`` is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._do_storage import _ABSENT, _MISS, _cached, _keep, _list_options

if TYPE_CHECKING:
    from ._do_storage import Storage


class SyncKv:
    """``storage.kv``: ``get``, ``put``, ``delete`` and ``list``, each without ``await``."""

    __slots__ = ("_storage",)

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def __repr__(self) -> str:
        return f"SyncKv({self._storage._label})"

    def get(self, key: str) -> Any:
        """The value stored at ``key``, or None."""
        storage = self._storage
        key = _key(key, "get")
        value = storage._cache.get(key, _MISS)
        if value is not _MISS:
            return _cached(value)
        value = storage._sync("get", key)
        kept = _ABSENT if value is None else _keep(value)
        if value is None or kept is not _ABSENT:
            storage._cache[key] = kept
        return value

    def put(self, key: str, value: Any) -> None:
        """Stores ``value`` at ``key`` (None cannot be stored: use ``delete``)."""
        if value is None:
            raise TypeError(
                f"kv.put({key!r}, None): None cannot be stored as a value; use kv.delete() "
                "to remove a key"
            )
        self._storage.put(_key(key, "put"), value)

    def delete(self, key: str) -> bool:
        """Removes ``key``; whether it existed."""
        storage = self._storage
        key = _key(key, "delete")
        existed = bool(storage._sync("delete", key))
        storage._cache[key] = _ABSENT
        return existed

    def list(self, options: Any = None, **kwargs: Any) -> Any:
        """Keys in order with their values, as a dict (``start``, ``start_after``, ``end``,
        ``prefix``, ``reverse``, ``limit``), as the async ``list`` gives them."""
        return self._storage._sync("list", _list_options(options, kwargs))


def _key(key: Any, method: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"kv.{method}() takes a str key, got {type(key).__name__}")
    return key
