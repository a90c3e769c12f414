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
    return value


def from_js(value):
    """A host result (a JS value seen from Python) as a plain Python value."""
    if JsProxy is not None and isinstance(value, JsProxy):
        value = value.to_py()
    return python_value(value)


def _object_from_entries(entries):
    import js

    return js.Object.fromEntries(entries)


def to_host(args):
    """Arguments of a host call as a JS array of structured-clone data."""
    return to_js(list(args), dict_converter=_object_from_entries, create_pyproxies=False)
