from __future__ import annotations

from collections.abc import Iterable, Iterator, KeysView, Mapping
from contextlib import contextmanager
from typing import Any


def _proxy_classes():
    from ._assets import Fetcher
    from ._d1 import D1Database
    from ._do_namespace import DurableObjectNamespace
    from ._kv import KVNamespace
    from ._queue import Queue
    from ._r2 import R2Bucket
    from ._service import ServiceBinding

    return {
        "kv": KVNamespace,
        "d1": D1Database,
        "r2": R2Bucket,
        "queue": Queue,
        "assets": Fetcher,
        "service": ServiceBinding,
        "durable_object_namespace": DurableObjectNamespace,
    }


def make_bindings(declared):
    """Proxies for ``[(name, type), ...]`` from the bundle: ``KVNamespace``, ``D1Database``, ..."""
    classes = _proxy_classes()
    out = {}
    for name, kind in declared:
        cls = classes.get(kind)
        if cls is None:
            raise ValueError(f"binding {name!r} has type {kind!r}, which this SDK does not know")
        out[name] = cls(name)
    return out


class Env(Mapping[str, Any]):
    """The worker's bindings: ``vars`` from its config, secrets given when it is started, and
    binding proxies (``self.env.MY_KV``, ``self.env.DB``, ...) for what its config declares.

    Read them as attributes (``self.env.API_KEY``) like on Cloudflare, or as the read-only
    mapping it is (``self.env["API_KEY"]``, ``"API_KEY" in self.env``, ``self.env.get(...)``,
    ``dict(self.env)``, ``isinstance(self.env, collections.abc.Mapping)``).
    Secrets are handed over after the isolate is restored, so they are never in a snapshot.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_values", dict(values or {}))

    def _replace(self, values: Mapping[str, Any]) -> None:
        # The runtime fills the one shared env in place, so references taken at build time
        # (``from workers import env`` at top level) see the values given after the restore.
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"env has no binding {name!r}; declare it in wrangler.toml / wrangler.jsonc "
                "(vars, kv_namespaces, d1_databases, r2_buckets, queues, services, "
                "durable_objects, assets) or "
                "[tool.pyworkers], or pass it as a secret"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("env is read-only")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def keys(self) -> KeysView[str]:
        return self._values.keys()

    def __repr__(self) -> str:
        # Names only: values may be secrets and reprs end up in logs.
        return f"Env({', '.join(sorted(self._values))})"


# The worker's env, shared by every request (empty at build time).
env = Env()


@contextmanager
def patch_env(
    values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None, **kwargs: Any
) -> Iterator[None]:
    """Adds or overrides env entries inside a ``with`` block, then restores them (Cloudflare's
    ``workers.patch_env``, mostly for tests): ``with patch_env(API_URL="http://127.0.0.1:9"):``.
    """
    saved = env._values
    env._replace({**saved, **dict(values or {}), **kwargs})
    try:
        yield
    finally:
        env._replace(saved)
