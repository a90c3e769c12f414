"""Header helpers shared by Request, Response, fetch and the ASGI/WSGI adapters.

Headers travel as a list of ``(name, value)`` pairs so repeated headers (``set-cookie``) keep
every value; names are lower-cased like a JS ``Headers`` object does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Imported here, at build time, so the import lives in the snapshot instead of costing the
# first request that reads headers.
from http.client import HTTPMessage
from typing import Any

# RFC 9110 token characters: what a JS Headers object accepts as a name.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_BAD_VALUE = re.compile(r"[\r\n\0]")
_STRIP = " \t\r\n"

#: What ``headers=`` takes: a dict, (name, value) pairs, an ``HTTPMessage`` or a JS ``Headers``.
HeadersInit = Mapping[str, Any] | Iterable[tuple[str, Any]] | Any | None
Pairs = list[tuple[str, str]]


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"header values must be str, got {type(value).__name__}")


def to_pairs(headers: HeadersInit) -> Pairs:
    """Normalise a dict, a list of pairs, an ``HTTPMessage`` or a JS ``Headers`` into pairs."""
    if headers is None:
        return []
    source: Any = headers
    items = source.items() if hasattr(source, "items") else source
    pairs = []
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError(
                "headers must be a dict or a list of (name, value) pairs, "
                f"got an item {item!r}"
            ) from None
        name = _value(name)
        if not _TOKEN.match(name):
            raise TypeError(f"{name!r} is an invalid header name")
        value = _value(value).strip(_STRIP)
        if _BAD_VALUE.search(value):
            raise TypeError(f"the value of header {name!r} contains CR, LF or NUL")
        pairs.append((name.lower(), value))
    return pairs


def has(pairs: Pairs, name: str) -> bool:
    return any(k == name for k, _ in pairs)


def to_message(pairs: Pairs) -> HTTPMessage:
    """An ``http.client.HTTPMessage``, which is what Cloudflare's SDK returns as ``headers``."""
    message = HTTPMessage()
    for name, value in pairs:
        message[name] = value
    return message


def js_pairs(js_headers: Any) -> Pairs:
    """Pairs read from a JS ``Headers`` (its iterator keeps each ``set-cookie`` apart)."""
    return [(str(name), str(value)) for name, value in js_headers]


def to_js_headers(pairs: Pairs) -> Any:
    from js import Headers

    js_headers = Headers.new()
    for name, value in pairs:
        js_headers.append(name, value)
    return js_headers
