"""``env.MY_KV``: a Workers KV namespace, as Cloudflare's ``KVNamespace``."""

from ._bindings import store
from ._convert import JsDict, options

_VALUE_TYPES = (str, bytes, bytearray, memoryview)


def _get_options(name, type, opts):
    if isinstance(type, dict):
        opts = {**type, **opts}
        type = None
    out = options(opts)
    if type is not None:
        if not isinstance(type, str):
            raise TypeError(f"{name}.get(): type must be a str such as 'json', got {type!r}")
        out["type"] = type
    return out


async def _as_stream(value):
    # Cloudflare returns a ReadableStream for type="stream": a JS one, so Response() can take it.
    if value is None:
        return None
    from js import Response as JsResponse
    from pyodide.ffi import to_js

    return JsResponse.new(to_js(value)).body


class KVNamespace:
    """A KV namespace: ``await get(key)``, ``put``, ``delete``, ``list``, ``get_with_metadata``.

    Options go as keyword arguments in either spelling (``expiration_ttl=60`` or
    ``expirationTtl=60``) or as one dict, as in JS.
    """

    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"KVNamespace({self._name!r})"

    async def get(self, key, type=None, **opts):
        """The value (text by default; ``type="json"|"arrayBuffer"|"stream"``) or None.

        A list of keys gives a dict of key -> value.
        """
        if type is None and not opts and key.__class__ is str:
            # The common call: the key alone crosses as it is.
            return await store(self._name, "get", key)
        opts = _get_options(self._name, type, opts)
        # No options: the key alone crosses without conversion (the common, fastest call).
        args = (_key(key), opts) if opts else (_key(key),)
        value = await store(self._name, "get", *args)
        return await _as_stream(value) if opts.get("type") == "stream" else value

    async def get_with_metadata(self, key, type=None, **opts):
        """``{"value": ..., "metadata": ..., "cacheStatus": None}`` (also as attributes)."""
        opts = _get_options(self._name, type, opts)
        result = await store(self._name, "getWithMetadata", _key(key), opts)
        if opts.get("type") == "stream" and result is not None:
            result["value"] = await _as_stream(result.get("value"))
        return result

    getWithMetadata = get_with_metadata

    async def put(self, key, value, given=None, **opts):
        """Stores ``value`` (str or bytes); ``expiration``, ``expiration_ttl``, ``metadata``."""
        if not isinstance(value, _VALUE_TYPES):
            raise TypeError(
                f"{self._name}.put(): the value must be str or bytes, got {type(value).__name__}"
                + ("; store JSON with json.dumps(value)" if isinstance(value, (dict, list)) else "")
            )
        if isinstance(value, (bytearray, memoryview)):
            value = bytes(value)
        opts = options(given, **opts)
        # No options: key and value cross as they are (a str value is not copied into JSON).
        args = (_key(key), value, opts) if opts else (_key(key), value)
        await store(self._name, "put", *args)

    async def delete(self, key):
        await store(self._name, "delete", _key(key))

    async def list(self, given=None, **opts):
        """``{"keys": [{"name", "expiration", "metadata"}], "list_complete", "cursor"}``;
        options ``prefix``, ``limit``, ``cursor``."""
        return KVListResult(await store(self._name, "list", options(given, **opts)))


class _KeyList(list):
    """``result.keys`` is the listed keys, as in JS; ``result.keys()`` is still the dict's."""

    __slots__ = ("_owner",)

    def __call__(self):
        return dict.keys(self._owner)


class KVListResult(JsDict):
    """What ``list()`` returns: ``keys`` (a list of ``{"name", ...}``), ``list_complete``,
    ``cursor``. ``result.keys`` reads the listed keys (the dict method stays callable)."""

    __slots__ = ()

    @property
    def keys(self):
        listed = _KeyList(self.get("keys") or [])
        listed._owner = self
        return listed


def _key(key):
    if isinstance(key, list | tuple):
        return [str(k) for k in key]
    return key if isinstance(key, str) else str(key)
