"""``self.ctx.storage`` of a Durable Object: key-value, SQL, alarms, transactions.

Every method is a host call on the object's own SQLite file (``__pyworkers_do__``, with the
object's token: the host answers only for objects it placed in this isolate). Calls start in
the order they are made, even when one is not awaited (``self.ctx.storage.set_alarm(t)`` as in
JS); the object's event is answered only once every call it made has finished (the output
gate): a response never goes out before its writes are committed.

``sql.exec`` and ``sql.database_size`` are synchronous, as on Cloudflare (blocking host calls).
Values round-trip as structured clone: dict, list, str, int, float, bool, None, bytes,
datetime, and JS values (``to_js(...)``) as they are.
"""

from __future__ import annotations

import datetime
import inspect
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from . import _bindings
from ._convert import JsDict, camel, python_value

try:  # Inside Pyodide; under CPython only the pure helpers below are usable.
    from pyodide.ffi import JsProxy, to_js
except ImportError:  # pragma: no cover - CPython
    JsProxy = to_js = None

BINDING = "__pyworkers_do__"
_UTC = datetime.UTC
_LIST_OPTIONS = ("start", "startAfter", "end", "prefix", "reverse", "limit")


def _js_default(value: Any, _convert: Any, _cache: Any) -> Any:
    if isinstance(value, datetime.datetime):
        import js

        moment = value if value.tzinfo is not None else value.replace(tzinfo=_UTC)
        return js.Date.new(moment.timestamp() * 1000)
    raise TypeError(
        f"a {type(value).__name__} cannot be stored: store None, bool, int, float, str, "
        "bytes, datetime, lists and dicts of them (or a JS value)"
    )


def _object_from_entries(entries: Any) -> Any:
    import js

    return js.Object.fromEntries(entries)


def _value(value: Any) -> Any:
    """A value to store, as JS data (primitives and JS values pass as they are)."""
    kind = type(value)
    if kind is str or kind is float or kind is bool or kind is int or value is None:
        return value
    if to_js is None or (JsProxy is not None and isinstance(value, JsProxy)):
        return value
    if kind is tuple:
        value = list(value)
    return to_js(
        value,
        dict_converter=_object_from_entries,
        default_converter=_js_default,
        create_pyproxies=False,
    )


def _entries(value: Any) -> Any:
    if isinstance(value, dict):
        return _value({str(k): v for k, v in value.items()})
    return _value(value)


def _millis(when: Any) -> float:
    """An alarm time as ms since the epoch: a number of ms, a datetime, or a JS Date."""
    if isinstance(when, datetime.datetime):
        moment = when if when.tzinfo is not None else when.replace(tzinfo=_UTC)
        return moment.timestamp() * 1000
    if isinstance(when, bool) or not isinstance(when, (int, float)):
        get_time = getattr(when, "getTime", None)
        if callable(get_time):
            return float(get_time())
        raise TypeError(
            f"set_alarm() takes ms since the epoch (int/float) or a datetime, got {when!r}"
        )
    return float(when)


def _list_options(given: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if given is not None:
        if JsProxy is not None and isinstance(given, JsProxy):
            given = given.to_py()
        if not isinstance(given, dict):
            raise TypeError(f"list() options must be a dict, got {type(given).__name__}")
        out.update((camel(k), v) for k, v in given.items())
    out.update((camel(k), v) for k, v in kwargs.items())
    unknown = sorted(set(out) - set(_LIST_OPTIONS))
    if unknown:
        raise TypeError(
            f"list() got unknown options {', '.join(unknown)}; it takes start, start_after, "
            "end, prefix, reverse and limit"
        )
    return {k: v for k, v in out.items() if v is not None}


class AlarmInfo:
    """What ``alarm(self, alarm_info)`` is told: ``retry_count`` and ``is_retry``."""

    __slots__ = ("retry_count", "is_retry")

    def __init__(self, retry_count: int, is_retry: bool) -> None:
        self.retry_count = retry_count
        self.is_retry = is_retry

    @property
    def retryCount(self) -> int:  # noqa: N802 - Cloudflare's JS spelling
        return self.retry_count

    @property
    def isRetry(self) -> bool:  # noqa: N802
        return self.is_retry

    def __repr__(self) -> str:
        return f"AlarmInfo(retry_count={self.retry_count}, is_retry={self.is_retry})"


_ABSENT = object()
_MISS = object()
# Values a read may hand out as they are (immutable): no copy.
_IMMUTABLE = frozenset({str, int, float, bool, bytes, type(None), datetime.datetime})
_STR = frozenset({str})
# Single-key puts waiting to go out are sent as one put({...}) of at most this many keys.
_MAX_KEYS = 128


class _Ready:
    """An awaitable that is already resolved (a cache hit, a write that went into the queue)."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __await__(self) -> Any:
        return self._value
        yield  # pragma: no cover - makes this a generator


class _Done:
    """What every queued put returns: awaiting it gives None at once. Its ``__await__`` is an
    empty tuple's iterator, made in C: no generator frame per ``await put()``."""

    __slots__ = ()
    __await__ = ().__iter__


_DONE = _Done()


async def _hit(value: Any) -> Any:
    """A cache hit as an awaitable: a coroutine is the cheapest one to make (no __init__)."""
    return value


# How the cache keeps a value: as it is when immutable; a dict whose keys are str and values
# immutable as a plain ``dict`` copy, a list of immutable values as a ``tuple`` (each copied in
# one C call, both ways); anything else as a deep copy (``python_value``: JsDict and list).


def _keep(value: Any) -> Any:
    """The copy the cache keeps of ``value`` (as structured clone does: later changes to
    ``value`` are not seen), or ``_ABSENT`` when it cannot be cached (a JS value, ...)."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict or kind is JsDict:
        # map() and issuperset run in C: no Python-level loop over the values.
        if _IMMUTABLE.issuperset(map(type, value.values())) and _STR.issuperset(map(type, value)):
            return dict(value)
        return python_value(value)
    if kind is list or kind is tuple:
        if _IMMUTABLE.issuperset(map(type, value)):
            return tuple(value)
        return python_value(value)
    return _ABSENT


def _cached(value: Any) -> Any:
    """A copy of a cached value, as a new read from storage gives (structured clone)."""
    kind = type(value)
    if kind is dict:
        return JsDict(value)
    if kind in _IMMUTABLE:
        return value
    if kind is tuple:
        return list(value)
    if value is _ABSENT:
        return None
    return python_value(value)


class _Call:
    """One storage call: awaitable, and started in call order even if never awaited."""

    __slots__ = ("_storage", "_method", "_args", "_state", "_value", "_error", "_waiters", "_put")

    def __init__(self, storage: Storage, method: str, args: tuple[Any, ...]) -> None:
        self._storage = storage
        self._method = method
        self._args = args
        self._put = False  # a single-key put nobody waits for: may go out with its neighbours
        self._state = 0  # 0 queued, 1 running, 2 done
        self._value: Any = None
        self._error: BaseException | None = None
        self._waiters: list[Any] | None = None  # futures of those awaiting it while it runs

    def _result(self) -> Any:
        if self._error is not None:
            if self._storage._failed is self._error:
                self._storage._failed = None  # raised to the one awaiting it instead
            raise self._error
        return self._value

    def __await__(self) -> Any:
        return self._storage._finish(self).__await__()

    def __repr__(self) -> str:
        return f"<storage.{self._method}() call>"


class Storage:
    """An object's storage (``DurableObjectStorage``), snake_case and camelCase names."""

    __slots__ = (
        "_token",
        "_label",
        "_queue",
        "_running",
        "_failed",
        "sql",
        "_txn_depth",
        "_cache",
        "_kicked",
        "_batch",
        "_kv",
    )

    def __init__(self, token: str, label: str) -> None:
        self._token = token
        self._label = label
        self._queue: deque[_Call] = deque()
        self._running: set[_Call] = set()
        self._failed: BaseException | None = None
        self._txn_depth = 0
        # What this (the one live) instance knows its keys hold: it alone writes them, so a
        # read it has seen or a write it made is what storage holds (Cloudflare caches too).
        self._cache: dict[str, Any] = {}
        self._kicked = False
        # The entries of the queued put({...}) that single-key puts join while it waits.
        self._batch: dict[str, Any] | None = None
        self.sql = SqlStorage(self)
        self._kv: Any = None

    def __repr__(self) -> str:
        return f"DurableObjectStorage({self._label})"

    @property
    def kv(self) -> Any:
        """The synchronous key-value API (``storage.kv.get(key)``, see :mod:`._do_kv`)."""
        if self._kv is None:
            from ._do_kv import SyncKv

            self._kv = SyncKv(self)
        return self._kv

    # The call machinery

    def _call(self, method: str, *args: Any) -> _Call:
        call = _Call(self, method, args)
        self._queue.append(call)
        self._batch = None  # later puts go after this call, in a batch of their own
        return call

    def _clear(self) -> None:
        """Drops the calls not started yet (a transaction that rolls back)."""
        self._queue.clear()
        self._batch = None

    async def _run(self, call: _Call) -> None:
        call._state = 1
        self._running.add(call)
        try:
            # The store path (PLAN.md "Host-call latency"): the host answers before this resumes.
            call._value = await _bindings.store(BINDING, call._method, self._token, *call._args)
        except Exception as exc:
            call._error = exc
        finally:
            call._state = 2
            self._running.discard(call)
            for waiter in call._waiters or ():
                if not waiter.done():
                    waiter.set_result(None)

    async def _finish(self, call: _Call) -> Any:
        if call._state == 1:
            import asyncio

            waiter = asyncio.get_event_loop().create_future()
            call._waiters = [*(call._waiters or ()), waiter]
            await waiter
        if call._state == 2:
            return call._result()
        # Calls made before this one go first, in order (they may not have been awaited).
        while self._queue:
            if self._queue[0] is call:
                self._queue.popleft()
                break
            await self._background(self._take())
        await self._run(call)
        return call._result()

    def _take(self) -> _Call:
        """The next queued call; a run of single-key puts is one ``put({...})`` already."""
        first = self._queue.popleft()
        if first._put:
            first._put = False
            entries = first._args[0]
            if entries is self._batch:
                self._batch = None
            # JSON-safe entries go as JSON text (the store path's fastest); others as JS data.
            if not _bindings.json_plain((entries,)):
                first._args = (_value(entries),)
        return first

    async def _background(self, call: _Call) -> None:
        # A call nobody awaited (yet): its failure breaks the event at the output gate, and
        # what the cache holds can no longer be trusted.
        await self._run(call)
        if call._error is not None:
            self._cache.clear()
            if self._failed is None:
                self._failed = call._error

    def _kick(self) -> None:
        """Sends queued writes soon (after the code that made them yields), coalesced."""
        if self._kicked:
            return
        self._kicked = True
        import asyncio

        async def drain() -> None:
            self._kicked = False
            while self._queue:
                await self._background(self._take())

        asyncio.get_event_loop().call_soon(lambda: asyncio.ensure_future(drain()))

    async def _settle(self) -> None:
        """The output gate: every call made so far has finished (queued ones run now)."""
        while self._queue:
            await self._background(self._take())
        if self._running:
            import asyncio

            await asyncio.gather(*(self._finish(c) for c in list(self._running)),
                                 return_exceptions=True)
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed

    def _sync(self, method: str, *args: Any) -> Any:
        self._drain_sync()
        return _bindings.call_store(BINDING, method, self._token, *args)

    def _drain_sync(self) -> None:
        # Calls made before a blocking one and not yet started go first, blocking too.
        while self._queue:
            call = self._take()
            call._state = 2
            try:
                call._value = _bindings.call_store(BINDING, call._method, self._token, *call._args)
            except Exception as exc:
                call._error = exc
                self._cache.clear()
                if self._failed is None:
                    self._failed = exc

    # Key-value

    def get(self, keys: Any, options: Any = None) -> Any:
        """``await get(key)`` -> value or None; ``await get([keys])`` -> dict of those found."""
        cache = self._cache
        if type(keys) is str:
            # The hot path: a key this instance read or wrote, answered with no call at all.
            value = cache.get(keys, _MISS)
            if value is _MISS:
                return _Filled(self, self._call("get", keys), keys)
            kind = type(value)
            if kind is dict:
                return _hit(JsDict(value))
            if kind in _IMMUTABLE:
                return _hit(value)
            return _hit(_cached(value))
        if isinstance(keys, (list, tuple)):
            names = [str(k) for k in keys]
            if all(k in cache for k in names):
                return _Ready(
                    {k: _cached(cache[k]) for k in sorted(set(names)) if cache[k] is not _ABSENT}
                )
            return _Filled(self, self._call("get", names), names)
        return _Filled(self, self._call("get", keys), keys)

    def put(self, key: Any, value: Any = None, options: Any = None) -> Any:
        """``put(key, value)`` or ``put({key: value, ...})``. As on Cloudflare, awaiting it does
        not wait for the disk: the write is queued (coalesced with its neighbours) and the
        object's answer waits until it is committed (``await sync()`` waits for it now)."""
        if type(key) is str and value is not None:
            # The hot path: remembered, queued in the waiting put({...}), answered at once.
            kind = type(value)
            if kind in _IMMUTABLE:
                kept = value
            elif (
                (kind is dict or kind is JsDict)
                and _IMMUTABLE.issuperset(map(type, value.values()))
                and _STR.issuperset(map(type, value))
            ):
                kept = dict(value)  # _keep(), inlined for the commonest value
            else:
                kept = _keep(value)
            if kept is _ABSENT:
                self._cache.pop(key, None)
                kept = _value(value)  # converted now: later changes to `value` are not written
            else:
                # The copy the cache keeps is what is written (converted when it goes out).
                self._cache[key] = kept
            batch = self._batch
            if batch is None or len(batch) >= _MAX_KEYS:
                batch = self._batch = {}
                call = _Call(self, "put", (batch,))
                call._put = True
                self._queue.append(call)
            batch[key] = kept
            if not self._kicked:
                self._kick()
            return _DONE
        if isinstance(key, dict) or (JsProxy is not None and isinstance(key, JsProxy)):
            if isinstance(key, dict):
                for k, v in key.items():
                    self._remember(str(k), v)
            else:
                self._cache.clear()
            self._call("put", _entries(key))
            self._kick()
            return _DONE
        if value is None:
            raise TypeError(
                f"put({key!r}, None): None cannot be stored as a value; use delete() to remove "
                "a key"
            )
        return self._call("put", key, _value(value))  # the host says what is wrong

    def _remember(self, key: str, value: Any) -> None:
        kept = _keep(value) if value is not None else _ABSENT
        if kept is _ABSENT:
            self._cache.pop(key, None)
        else:
            self._cache[key] = kept

    def delete(self, keys: Any, options: Any = None) -> Any:
        """``await delete(key)`` -> whether it existed; ``delete([keys])`` -> how many did."""
        cache = self._cache
        if isinstance(keys, (list, tuple)):
            names = list(dict.fromkeys(str(k) for k in keys))
            known = all(k in cache for k in names)
            existed = sum(1 for k in names if cache.get(k, _ABSENT) is not _ABSENT)
            for k in names:
                cache[k] = _ABSENT
            call = self._call("delete", names)
        else:
            known = type(keys) is str and keys in cache
            existed = known and cache[keys] is not _ABSENT
            if type(keys) is str:
                cache[keys] = _ABSENT
            call = self._call("delete", keys)
        if known:
            self._kick()
            return _Ready(existed)
        return call

    def list(self, options: Any = None, **kwargs: Any) -> Any:
        """Keys in order with their values, as a dict: ``start``, ``start_after``, ``end``,
        ``prefix``, ``reverse``, ``limit`` (keyword arguments or one dict)."""
        return _Filled(self, self._call("list", _list_options(options, kwargs)), None)

    def delete_all(self, options: Any = None) -> _Call:
        """Deletes every key, every SQL table and the alarm."""
        self._cache.clear()
        return self._call("deleteAll")

    deleteAll = delete_all

    # Alarms

    def get_alarm(self, options: Any = None) -> _Call:
        """The alarm's time in ms since the epoch, or None."""
        return self._call("getAlarm")

    def set_alarm(self, scheduled_time: Any, options: Any = None) -> _Call:
        """Sets (replaces) the alarm: ms since the epoch or a datetime."""
        return self._call("setAlarm", _millis(scheduled_time))

    def delete_alarm(self, options: Any = None) -> _Call:
        return self._call("deleteAlarm")

    getAlarm = get_alarm
    setAlarm = set_alarm
    deleteAlarm = delete_alarm

    # Transactions

    async def transaction(self, closure: Callable[[Transaction], Any]) -> Any:
        """Runs ``closure(txn)``: its writes all commit when it returns, or all roll back when
        it raises or calls ``txn.rollback()``."""
        await self._settle()
        await self._call("transactionBegin")
        self._txn_depth += 1
        txn = Transaction(self)
        try:
            result = closure(txn)
            if inspect.isawaitable(result):
                result = await result
            await self._settle()
        except BaseException:
            self._txn_depth -= 1
            self._clear()
            self._failed = None
            self._cache.clear()  # the closure's writes are undone: forget what they wrote
            await self._call("transactionEnd", False)
            raise
        self._txn_depth -= 1
        if txn._rolled_back:
            self._cache.clear()
        await self._call("transactionEnd", not txn._rolled_back)
        return result

    def transaction_sync(self, closure: Callable[[], Any]) -> Any:
        """Runs the synchronous ``closure()`` in a transaction (usually with ``sql.exec``)."""
        self._sync("transactionBegin")
        try:
            result = closure()
            self._drain_sync()  # the closure's queued writes go in the transaction
        except BaseException:
            self._clear()
            self._cache.clear()
            self._sync("transactionEnd", False)
            raise
        self._sync("transactionEnd", True)
        return result

    transactionSync = transaction_sync

    async def sync(self) -> None:
        """Resolves once every write made so far is durable (they are when awaited)."""
        await self._settle()


class _Filled:
    """A read that goes to the host; what it returns is remembered in the cache."""

    __slots__ = ("_storage", "_call_", "_keys")

    def __init__(self, storage: Storage, call: _Call, keys: Any) -> None:
        self._storage = storage
        self._call_ = call
        self._keys = keys

    def __await__(self) -> Any:
        return self._fill().__await__()

    async def _fill(self) -> Any:
        value = await self._call_
        cache = self._storage._cache
        keys = self._keys
        if isinstance(keys, str):
            kept = _ABSENT if value is None else _keep(value)
            if value is None or kept is not _ABSENT:
                cache[keys] = kept
        elif isinstance(value, dict):
            for k in keys if isinstance(keys, list) else ():
                if k not in value:
                    cache[k] = _ABSENT
            for k, v in value.items():
                kept = _keep(v) if v is not None else _ABSENT
                if kept is not _ABSENT:
                    cache[k] = kept
        return value


class Transaction:
    """The ``txn`` a transaction closure gets: the storage's methods, plus ``rollback()``."""

    __slots__ = ("_storage", "_rolled_back")

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._rolled_back = False

    def rollback(self) -> None:
        """Roll the transaction back when the closure returns, instead of committing."""
        self._rolled_back = True

    def __getattr__(self, name: str) -> Any:
        if name in ("transaction", "transaction_sync", "transactionSync", "sql"):
            raise AttributeError(f"txn.{name} is not available inside a transaction closure")
        return getattr(self._storage, name)


class SqlStorage:
    """``ctx.storage.sql``: ``exec(query, *bindings)`` -> a cursor, ``database_size``."""

    __slots__ = ("_storage",)

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def exec(self, query: str, *bindings: Any) -> SqlCursor:
        """Runs ``query`` (one statement or several; the bindings belong to the last)."""
        if not isinstance(query, str):
            raise TypeError(f"sql.exec() takes the SQL text first, got {type(query).__name__}")
        params = []
        for value in bindings:
            if isinstance(value, (bytearray, memoryview)):
                value = bytes(value)
            params.append(value)
        return SqlCursor(self._storage._sync("sqlExec", query, *params))

    @property
    def database_size(self) -> int:
        """Bytes the object's database takes."""
        return int(self._storage._sync("databaseSize"))

    databaseSize = database_size


class SqlCursor:
    """The rows of one ``sql.exec()``: iterate for dicts, ``to_array()``, ``one()``, ``raw()``."""

    __slots__ = ("column_names", "_rows", "_next", "rows_read", "rows_written")

    def __init__(self, data: Any) -> None:
        self.column_names: list[str] = [str(c) for c in data["columnNames"]]
        self._rows: list[list[Any]] = [python_value(list(r)) for r in data["rows"]]
        self._next = 0
        self.rows_read = int(data["rowsRead"])
        self.rows_written = int(data["rowsWritten"])

    @property
    def columnNames(self) -> list[str]:  # noqa: N802 - Cloudflare's JS spelling
        return self.column_names

    @property
    def rowsRead(self) -> int:  # noqa: N802
        return self.rows_read

    @property
    def rowsWritten(self) -> int:  # noqa: N802
        return self.rows_written

    def _dict(self, row: list[Any]) -> dict[str, Any]:
        from ._convert import JsDict

        return JsDict(zip(self.column_names, row, strict=False))

    def _take(self) -> list[list[Any]]:
        rows = self._rows[self._next :]
        self._next = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        if self._next >= len(self._rows):
            raise StopIteration
        row = self._rows[self._next]
        self._next += 1
        return self._dict(row)

    def next(self) -> dict[str, Any]:
        """JS-style ``next()``: ``{"done": bool, "value": row}``."""
        try:
            return {"done": False, "value": next(self)}
        except StopIteration:
            return {"done": True}

    def to_array(self) -> list[dict[str, Any]]:
        """The remaining rows as dicts."""
        return [self._dict(r) for r in self._take()]

    toArray = to_array

    def one(self) -> dict[str, Any]:
        """The only row; raises when the query gave none or more than one."""
        rows = self._take()
        if len(rows) != 1:
            got = len(rows) if rows else "no"
            raise ValueError(
                f"Expected exactly one result from SQL query, but got {got} results."
            )
        return self._dict(rows[0])

    def raw(self) -> RawCursor:
        """The remaining rows as lists of values, in column order."""
        return RawCursor(self._take(), self.column_names)

    def __repr__(self) -> str:
        return f"SqlCursor(columns={self.column_names}, rows={len(self._rows)})"


class RawCursor:
    """Rows as lists (``cursor.raw()``): iterate, or ``to_array()``."""

    __slots__ = ("_rows", "column_names")

    def __init__(self, rows: list[list[Any]], column_names: list[str]) -> None:
        self._rows = iter(rows)
        self.column_names = column_names

    def __iter__(self) -> Iterator[list[Any]]:
        return self._rows

    def __next__(self) -> list[Any]:
        return next(self._rows)

    def to_array(self) -> list[list[Any]]:
        return list(self._rows)

    toArray = to_array


