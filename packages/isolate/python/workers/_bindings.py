"""The channel from binding proxies to the host: the one way out of the isolate.

``await call("KV", "get", key, options)`` sends a host call (binding, method, arguments) through
``js.pyworkersHost`` and returns the host's answer as Python values; a refused call raises
:class:`BindingError`, naming the binding.

``call_store`` is the path of the store bindings (KV, D1, Durable Object storage): the isolate
thread waits for the host's answer, so the proxy's coroutine completes without suspending. An
awaited JS promise costs two turns of Pyodide's event loop (each a PyProxy and a setImmediate),
which was most of a KV get's time; the host answers a store call in ~0.01 ms. Service and
Durable Object stub calls never take it: they may run long (PLAN.md "Host-call latency").
"""

import asyncio
import json

from ._convert import SAFE_INT as _SAFE_INT
from ._convert import JsDict, from_js, json_plain, to_host

try:
    from pyodide.ffi import JsException
except ImportError:  # pragma: no cover - CPython

    class JsException(Exception):  # noqa: N818 - Pyodide's name
        pass

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


def _flat(args):
    # Primitives cross into JS as they are: no to_js() and no walk on either side.
    for a in args:
        kind = type(a)
        if kind is str or kind is float or kind is bool:
            continue
        if kind is int and -_SAFE_INT < a < _SAFE_INT:
            continue
        return False
    return True


async def call(binding, method, *args):
    """Calls ``method`` of ``binding`` on the host and returns its result as Python values."""
    host = _host(binding, method)
    try:
        if _flat(args):
            value = await host.callFlat(binding, method, *args)
        else:
            value = await host.call(binding, method, _args(binding, method, args))
    except JsException as exc:
        if getattr(exc, "name", None) != "HostCallError":
            raise
        raise BindingError(binding, method, str(exc.code), str(exc.message)) from None
    return value if type(value) is str else from_js(value)


# Made once: json.dumps/json.loads build a new encoder/decoder on every call given options.
_to_json = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_from_json = json.JSONDecoder(object_pairs_hook=JsDict).decode


def _store_result(value):
    if type(value) is str:
        # 's' + text, or 'j' + JSON (host-channel.ts hostCallStore)
        if value[0] == "s":
            return value[1:]
        return _from_json(value[1:])
    return None if value is None else from_js(value)


# (callStoreFlat, callStore) of js.pyworkersHost, taken on the first store call while serving
# (never at the top level, so never in a snapshot); set_env clears it.
_store_fns = None


# (callRpcFlat, callRpc) of js.pyworkersHost, the same way: looking ``js.pyworkersHost`` up
# costs ~15-20 us in Pyodide, a tenth of an RPC's time in the caller's isolate.
_rpc_fns = None


def _reset():
    global _store_fns, _rpc_fns
    _store_fns = None
    _rpc_fns = None


def rpc_fns(binding, method):
    """``(callRpcFlat, callRpc)``: an RPC's answer as JSON text when it is plain data (Python
    decodes it in C), else a JS value; or a promise of it (host-channel.ts ``hostCallRpc``)."""
    global _rpc_fns
    fns = _rpc_fns
    if fns is None:
        host = _host(binding, method)
        fns = _rpc_fns = (host.callRpcFlat, host.callRpc)
    return fns


# Store calls in a row between two turns of the event loop: a handler looping over store calls
# (which never suspend) still lets the isolate's other requests in, ~every 1-2 ms.
_STORE_CALLS_PER_TURN = 32
_since_turn = 0


async def store(binding, method, *args):
    """:func:`call_store` for the proxies' ``async def`` methods (``await store(...)``): every
    so many calls it first gives one turn of the event loop to the isolate's other work."""
    global _since_turn
    _since_turn += 1
    if _since_turn >= _STORE_CALLS_PER_TURN:
        _since_turn = 0
        await asyncio.sleep(0)
    return call_store(binding, method, *args)


def call_store(binding, method, *args):
    """A store call (KV, D1, Durable Object storage): the thread waits for the host's answer.

    Called from the proxies' ``async def`` methods, so ``await env.KV.get(k)`` stays the API.
    """
    global _store_fns
    fns = _store_fns
    if fns is None:
        host = _host(binding, method)
        fns = _store_fns = (host.callStoreFlat, host.callStore)
    try:
        if _flat(args):
            value = fns[0](binding, method, *args)
        elif json_plain(args):
            value = fns[1](binding, method, _to_json(args))
        else:
            value = fns[1](binding, method, _args(binding, method, args))
    except JsException as exc:
        if getattr(exc, "name", None) != "HostCallError":
            raise
        raise BindingError(binding, method, str(exc.code), str(exc.message)) from None
    return _store_result(value)


def call_sync(binding, method, *args, timeout_ms=30_000):
    """The blocking variant of :func:`call` (the isolate's thread waits for the host)."""
    host = _host(binding, method)
    reply = host.callSync(binding, method, _args(binding, method, args), timeout_ms)
    return _result(binding, method, reply)
