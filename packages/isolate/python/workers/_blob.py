"""``Blob`` and ``File``, backed by JS ones (``js_object``), as in Cloudflare's SDK."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ._request import _is_js


class BlobEnding(StrEnum):
    TRANSPARENT = "transparent"
    NATIVE = "native"


def _is_js_blob(value: Any) -> bool:
    return _is_js(value, "Blob") or _is_js(value, "File")


def _part(value: Any) -> Any:
    """One part as a JS Blob constructor takes it (bytes are copied out of the heap)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Blob):
        return value._js
    if isinstance(value, (bytes, bytearray, memoryview)):
        from pyodide.ffi import to_js

        return to_js(bytes(value))
    if hasattr(value, "constructor"):  # a JS Blob, ArrayBuffer, typed array, DataView
        return value
    raise TypeError(
        f"Don't know how to handle {type(value).__name__} for Blob(): "
        "use str, bytes, a Blob or a JS buffer"
    )


def _parts(blob_parts: Any) -> list[Any]:
    # A single part (a str, bytes, a Blob or one JS object) or an iterable of them.
    if isinstance(blob_parts, (str, bytes, bytearray, memoryview, Blob)):
        return [_part(blob_parts)]
    if hasattr(blob_parts, "constructor") and not _is_js(blob_parts, "Array"):
        return [_part(blob_parts)]
    return [_part(p) for p in blob_parts]


def _options(**values: Any) -> Any:
    from js import Object
    from pyodide.ffi import to_js

    present = {k: v for k, v in values.items() if v is not None}
    return to_js(present, dict_converter=Object.fromEntries)


class Blob:
    """Immutable bytes with a content type: ``Blob(["a", b"b"], content_type="text/plain")``.

    ``size``, ``content_type``, ``await text()``, ``await bytes()``, ``slice()``; a single JS
    Blob or ``Blob`` given alone keeps its content type.
    """

    __slots__ = ("_js",)
    _js: Any

    def __init__(
        self,
        blob_parts: Any = (),
        content_type: str | None = None,
        endings: BlobEnding | str | None = None,
    ) -> None:
        if content_type is None:
            content_type = _inherited_type(blob_parts)
        from js import Blob as JsBlob
        from pyodide.ffi import to_js

        parts = to_js(_parts(blob_parts), create_pyproxies=False)
        self._js = JsBlob.new(parts, _options(type=content_type, endings=_ending(endings)))

    @classmethod
    def _wrap(cls, js_blob: Any) -> Blob:
        self = cls.__new__(cls)
        self._js = js_blob
        return self

    @property
    def size(self) -> int:
        return int(self._js.size)

    @property
    def content_type(self) -> str:
        return str(self._js.type)

    # The JS spelling.
    @property
    def type(self) -> str:
        return str(self._js.type)

    @property
    def js_object(self) -> Any:
        """The JS ``Blob`` this wraps."""
        return self._js

    async def text(self) -> str:
        return str(await self._js.text())

    async def bytes(self) -> bytes:
        return (await self._js.arrayBuffer()).to_bytes()

    def slice(
        self, start: int | None = None, end: int | None = None, content_type: str | None = None
    ) -> Blob:
        args = [a for a in (start, end) if a is not None]
        if content_type is not None:
            args = [start or 0, self.size if end is None else end, content_type]
        return Blob._wrap(self._js.slice(*args))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, content_type={self.content_type!r})"


def _inherited_type(blob_parts: Any) -> str | None:
    if isinstance(blob_parts, Blob):
        return blob_parts.content_type or None
    if _is_js_blob(blob_parts):
        return str(blob_parts.type) or None
    return None


def _ending(endings: BlobEnding | str | None) -> str | None:
    if endings is None:
        return None
    value = str(endings)
    if value not in ("transparent", "native"):
        raise ValueError(f"endings must be 'transparent' or 'native', got {value!r}")
    return value


class File(Blob):
    """A ``Blob`` with a file ``name`` and ``last_modified`` (ms since epoch), e.g. an upload."""

    __slots__ = ()

    def __init__(
        self,
        blob_parts: Any,
        filename: str,
        content_type: str | None = None,
        endings: BlobEnding | str | None = None,
        last_modified: int | None = None,
    ) -> None:
        if content_type is None:
            content_type = _inherited_type(blob_parts)
        if last_modified is None:
            if isinstance(blob_parts, File):
                last_modified = blob_parts.last_modified
            elif _is_js(blob_parts, "File"):
                last_modified = int(blob_parts.lastModified)
        from js import File as JsFile
        from pyodide.ffi import to_js

        parts = to_js(_parts(blob_parts), create_pyproxies=False)
        options = _options(type=content_type, endings=_ending(endings), lastModified=last_modified)
        self._js = JsFile.new(parts, str(filename), options)

    @property
    def name(self) -> str:
        return str(self._js.name)

    @property
    def last_modified(self) -> int:
        return int(self._js.lastModified)

    def __repr__(self) -> str:
        return f"File(name={self.name!r}, size={self.size}, content_type={self.content_type!r})"


def from_js(value: Any) -> Any:
    """A JS File or Blob as ``File``/``Blob``; anything else unchanged (a form's str values)."""
    if _is_js(value, "File"):
        return File._wrap(value)
    if _is_js(value, "Blob"):
        return Blob._wrap(value)
    return value
