"""The channel from binding proxies to the host: the one way out of the isolate.

``await call("KV", "get", key, options)`` sends a host call (binding, method, arguments) through
``js.pyworkersHost`` and returns the host's answer as Python values; a refused call raises
:class:`BindingError`, naming the binding.
"""

from ._convert import from_js, to_host

# Set once the runtime handed this isolate its env (after a restore): no host calls before that.
_serving = False


class BindingError(Exception):
    """A binding call the host refused or could not run.

    ``binding`` is the name in ``env`` (``"KV"``), ``method`` the call (``"put"``) and ``code``
    the host's error code (``"ERR_KV_VALUE_TOO_LARGE"``, ...).
    """

    def __init__(self, binding, method, code, message):
        super().__init__(f"{binding}.{method}(): {message} [{code}]")
        self.binding = binding
        self.method = method
        self.code = code


def _host(binding, method):
    if not _serving:
        raise BindingError(
            binding,
            method,
            "ERR_BINDING_AT_TOP_LEVEL",
            "bindings are reachable only while the worker handles an event (fetch, scheduled, "
            "queue), not at its top level, which runs at build time; move the call into a handler",
        )
    # Looked up per call: a JS object must not be held across the snapshot.
    import js

    return js.pyworkersHost


def _args(binding, method, args):
    try:
        return to_host(args)
    except Exception as exc:
        raise TypeError(
            f"{binding}.{method}(): arguments must be str, int, float, bool, None, bytes, "
            f"lists and dicts of them ({exc})"
        ) from None


def _result(binding, method, reply):
    if reply.ok:
        return from_js(reply.value)
    error = reply.error
    raise BindingError(binding, method, str(error.code), str(error.message))


async def call(binding, method, *args):
    """Calls ``method`` of ``binding`` on the host and returns its result as Python values."""
    host = _host(binding, method)
    reply = await host.call(binding, method, _args(binding, method, args))
    return _result(binding, method, reply)


def call_sync(binding, method, *args, timeout_ms=30_000):
    """The blocking variant of :func:`call` (the isolate's thread waits for the host)."""
    host = _host(binding, method)
    reply = host.callSync(binding, method, _args(binding, method, args), timeout_ms)
    return _result(binding, method, reply)
