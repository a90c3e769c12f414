"""``FormData``: form fields and uploaded files, backed by a JS ``FormData`` (``js_object``).

As in Cloudflare's SDK it is a mutable mapping whose ``[key]`` is the first value and
``get_all(key)`` every value; values are ``str``, ``File`` or ``Blob``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from ._blob import Blob, from_js
from ._request import _is_js

FormDataValue = str | Blob


def _to_js(value: Any) -> Any:
    if isinstance(value, Blob):
        return value.js_object
    if isinstance(value, str) or _is_js(value, "Blob") or _is_js(value, "File"):
        return value
    raise TypeError(f"FormData values are str, File or Blob, got {type(value).__name__}")


class FormData(MutableMapping[str, FormDataValue]):
    """``FormData({"name": "x"})``, ``form["name"]``, ``form.get_all("tag")``,
    ``form.append("file", File([b"..."], "a.txt"))``; ``await request.form_data()`` gives one."""

    __slots__ = ("_js",)
    _js: Any

    def __init__(self, form_data: Mapping[str, FormDataValue] | Any = None) -> None:
        from js import FormData as JsFormData

        if form_data is not None and _is_js(form_data, "FormData"):
            self._js = form_data
            return
        self._js = JsFormData.new()
        if form_data is None:
            return
        if not isinstance(form_data, Mapping):
            raise TypeError("Expected form_data to be a dict or an instance of FormData")
        for key, value in form_data.items():
            self.append(key, value)

    @property
    def js_object(self) -> Any:
        """The JS ``FormData`` this wraps (a body for ``Response``, ``Request`` or ``fetch``)."""
        return self._js

    def __getitem__(self, key: str) -> FormDataValue:
        if not self._js.has(key):
            raise KeyError(key)
        return from_js(self._js.get(key))

    def __setitem__(self, key: str, value: FormDataValue) -> None:
        if isinstance(value, list):
            raise TypeError("Expected a single value in FormData[key] = value; use append()")
        self._js.set(key, _to_js(value))

    def __delitem__(self, key: str) -> None:
        if not self._js.has(key):
            raise KeyError(key)
        self._js.delete(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(self._js.has(key))

    def __iter__(self) -> Iterator[str]:
        # Each name once, in first-seen order (the JS iterator repeats names).
        seen: dict[str, None] = {}
        for key in self._js.keys():
            seen.setdefault(str(key), None)
        return iter(seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def append(self, key: str, value: FormDataValue, filename: str | None = None) -> None:
        if filename is None:
            self._js.append(key, _to_js(value))
        else:
            self._js.append(key, _to_js(value), filename)

    def delete(self, key: str) -> None:
        self._js.delete(key)

    def get_all(self, key: str) -> list[FormDataValue]:
        return [from_js(v) for v in self._js.getAll(key)]

    def items(self) -> Iterator[tuple[str, FormDataValue]]:  # type: ignore[override]
        """Every (name, value) pair, repeated names included."""
        for key, value in self._js.entries():
            yield str(key), from_js(value)

    def __repr__(self) -> str:
        return f"FormData({', '.join(sorted(self))})"
