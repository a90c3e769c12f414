"""Values crossing the host-call channel.

Python arguments become structured-clone data (dicts -> plain objects, bytes -> Uint8Array,
None -> null); host results become plain Python values: dicts that also read as attributes
(``JsDict``), lists, ``None`` (never ``jsnull``), ``bytes`` (never ``memoryview``). The pure
parts import under CPython, so they can be tested without Pyodide.
"""

try:  # Inside Pyodide; under CPython only the pure helpers below are usable.
    from pyodide.ffi import JsProxy, jsnull, to_js
except ImportError:  # pragma: no cover - CPython
    JsProxy = jsnull = to_js = None


class JsDict(dict):
    """A dict from the host whose keys also read as attributes: ``row.title == row["title"]``.

    As Cloudflare's SDK converts RPC results (workers-py's ``JsDict``). It is a real ``dict``:
    ``json.dumps``, ``==``, ``**`` and ``isinstance(x, dict)`` work as usual.
    """

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"{name!r} is not in this result (keys: {', '.join(map(str, self)) or 'none'})"
            ) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


def python_value(value):
    """Rebuilds a ``to_py()`` tree with Python's own types (JsDict, list, None, bytes)."""
    kind = type(value)
    if kind is dict or kind is JsDict:
        return JsDict({key: python_value(item) for key, item in value.items()})
    if kind is list or kind is tuple:
        return [python_value(item) for item in value]
    if kind is memoryview or kind is bytearray:
        return bytes(value)
    if value is jsnull and jsnull is not None:
        return None
    if JsProxy is not None and isinstance(value, JsProxy):
        return _leftover(value)
    return value


def _leftover(value):
    # What ``to_py()`` leaves as a proxy: a JS Date (R2's ``uploaded``) becomes an aware datetime.
    if getattr(getattr(value, "constructor", None), "name", None) == "Date":
        from datetime import UTC, datetime

        return datetime.fromtimestamp(value.getTime() / 1000, tz=UTC)
    return value


def from_js(value):
    """A host result (a JS value seen from Python) as a plain Python value."""
    if JsProxy is not None and isinstance(value, JsProxy):
        value = value.to_py()
    return python_value(value)


def camel(name):
    """``expiration_ttl`` -> ``expirationTtl``: Python spellings of Cloudflare's JS option names."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def options(given=None, **kwargs):
    """One JS options object from a dict and/or keyword arguments (snake_case or camelCase).

    ``None`` means "not given", so ``put(k, v, expiration_ttl=None)`` sends no ``expirationTtl``.
    """
    out = {}
    if given is not None:
        if not isinstance(given, dict):
            raise TypeError(f"options must be a dict, got {type(given).__name__}")
        out.update((camel(k), v) for k, v in given.items())
    out.update((camel(k), v) for k, v in kwargs.items())
    return {k: v for k, v in out.items() if v is not None}


def _object_from_entries(entries):
    import js

    return js.Object.fromEntries(entries)


def to_host(args):
    """Arguments of a host call as a JS array of structured-clone data."""
    return to_js(list(args), dict_converter=_object_from_entries, create_pyproxies=False)


SAFE_INT = 2**53
"""Ints JSON carries to JS exactly: JS numbers hold integers up to 2**53."""


def json_plain(value, tag=None, depth=0):
    """True when JSON carries ``value`` to JS unchanged: str, bool, None, int within 2**53,
    finite float, list/tuple and dict (str keys) of them; not bytes, datetime or a JS value
    (``json.dumps`` would write big ints that JS reads rounded, and bytes need ``to_js``).
    With ``tag`` (RPC data, as ``_rpc.to_rpc`` converts it): exactly list and dict, no tuple
    (RPC refuses it), and no dict holding the ``tag`` key."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -SAFE_INT < value < SAFE_INT
    if kind is float:
        return value - value == 0.0  # False for inf and nan
    if depth > 32:
        return False
    if kind is list or (tag is None and (kind is tuple or isinstance(value, list))):
        for item in value:
            if not json_plain(item, tag, depth + 1):
                return False
        return True
    if kind is dict or kind is JsDict or (tag is None and isinstance(value, dict)):
        if tag is not None and tag in value:
            return False
        for key, item in value.items():
            if type(key) is not str or not json_plain(item, tag, depth + 1):
                return False
        return True
    return False
