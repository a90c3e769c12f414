from __future__ import annotations

from typing import Any

from ._do_gate import outgoing
from ._request import Request, _refuse_get_body, js_init
from ._response import Response


async def fetch(resource: str | Request | Any, **options: Any) -> Response:
    """Outbound HTTP through the isolate's JS ``fetch``.

    ``resource`` is a URL string, a ``workers.Request`` or a JS ``Request``; keyword options are
    the JS ``RequestInit`` ones (``method``, ``headers``, ``body``, ``redirect``, ...).
    Returns a ``Response`` with ``status``, ``headers`` and ``await text()/json()/bytes()``.
    """
    from js import fetch as js_fetch
    from pyodide.ffi import JsException

    _refuse_get_body(resource, options)
    if isinstance(resource, Request):
        resource = resource.js_object
    target = resource if isinstance(resource, str) else getattr(resource, "url", resource)
    try:
        # Inside a Durable Object's event the input gate is open while the request is out.
        if options:
            js_response = await outgoing(js_fetch(resource, js_init(options)))
        else:
            js_response = await outgoing(js_fetch(resource))
    except JsException as exc:
        cause = getattr(exc.js_error, "cause", None)
        detail = f" ({cause.message})" if cause is not None and hasattr(cause, "message") else ""
        raise OSError(f"fetch {target} failed: {exc.message}{detail}") from None
    return Response._from_js(js_response)
