"""Durable Object SDK parts that run under CPython: SQL cursors, list options, alarm times,
ids, the build-time class check, and the call queue's ordering and output gate."""

import asyncio
import datetime
import types
import unittest

from workers import DurableObject, DurableObjectId, _bindings
from workers._do_storage import SqlCursor, Storage, _list_options, _millis
from workers._durable_object import check_classes


def cursor():
    return SqlCursor({
        "columnNames": ["id", "name"],
        "rows": [[1, "a"], [2, memoryview(b"b")]],
        "rowsRead": 2,
        "rowsWritten": 0,
    })


class Cursor(unittest.TestCase):
    def test_rows_as_dicts_lists_and_counts(self):
        c = cursor()
        self.assertEqual(c.column_names, ["id", "name"])
        self.assertEqual(c.columnNames, ["id", "name"])
        self.assertEqual((c.rows_read, c.rowsWritten), (2, 0))
        self.assertEqual(c.to_array(), [{"id": 1, "name": "a"}, {"id": 2, "name": b"b"}])
        self.assertEqual(c.toArray(), [])  # read to the end, as in JS
        self.assertEqual(list(cursor().raw()), [[1, "a"], [2, b"b"]])
        self.assertEqual([row["id"] for row in cursor()], [1, 2])
        self.assertEqual(cursor().next(), {"done": False, "value": {"id": 1, "name": "a"}})

    def test_one_wants_exactly_one_row(self):
        with self.assertRaisesRegex(ValueError, "exactly one result .* got 2 results"):
            cursor().one()
        single = SqlCursor({"columnNames": ["n"], "rows": [[5]], "rowsRead": 1, "rowsWritten": 0})
        self.assertEqual(single.one().n, 5)


class Options(unittest.TestCase):
    def test_list_options_in_either_spelling(self):
        self.assertEqual(
            _list_options({"startAfter": "a"}, {"end": "z", "limit": 2, "prefix": None}),
            {"startAfter": "a", "end": "z", "limit": 2},
        )
        self.assertEqual(_list_options(None, {"start_after": "b"}), {"startAfter": "b"})
        with self.assertRaisesRegex(TypeError, "unknown options cursor"):
            _list_options(None, {"cursor": "x"})

    def test_alarm_times(self):
        self.assertEqual(_millis(1500), 1500.0)
        moment = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
        self.assertEqual(_millis(moment), moment.timestamp() * 1000)
        self.assertEqual(_millis(moment.replace(tzinfo=None)), moment.timestamp() * 1000)
        with self.assertRaisesRegex(TypeError, "ms since the epoch"):
            _millis("soon")


class Ids(unittest.TestCase):
    def test_compare_print_and_name(self):
        a = DurableObjectId("ab" * 32, "room")
        self.assertEqual(str(a), "ab" * 32)
        self.assertEqual(a.toString(), "ab" * 32)
        self.assertTrue(a.equals(DurableObjectId("ab" * 32)))
        self.assertEqual(a, DurableObjectId("ab" * 32))
        self.assertEqual(len({a, DurableObjectId("ab" * 32)}), 1)
        self.assertEqual(a.name, "room")


class ClassCheck(unittest.TestCase):
    def test_names_the_missing_class_and_file(self):
        module = types.ModuleType("entry")
        module.__file__ = "/session/worker/entry.py"

        class List(DurableObject):
            pass

        module.List = List
        check_classes(module, ["List"])
        with self.assertRaisesRegex(TypeError, r"names Durable Object class 'Room'.*entry\.py"):
            check_classes(module, ["List", "Room"])


class CallQueue(unittest.TestCase):
    """Calls go out in the order they were made, awaited or not; the gate waits for them all."""

    def setUp(self):
        self.sent = []

        async def call(binding, method, *args):
            self.sent.append((method, args))
            await asyncio.sleep(0)
            if method == "fail":
                raise RuntimeError("write failed")
            return len(self.sent)

        # Storage calls take the store path (``_bindings.store``); both are stood in for.
        self.saved = (_bindings.call, _bindings.store)
        _bindings.call = _bindings.store = call

    def tearDown(self):
        _bindings.call, _bindings.store = self.saved

    def test_unawaited_calls_go_first_and_settle_at_the_gate(self):
        async def run():
            s = Storage("tok", "Counter 1")
            s.set_alarm(1000)  # never awaited, as JS code does
            await s.put("k", {"n": [1]})
            got = await s.get("k")  # what this instance wrote: no host call
            got["n"].append(2)  # a copy, as a read from storage is
            again = await s.get("k")
            s.delete("k")
            await s._settle()
            return got, again, await s.get("k")

        got, again, gone = asyncio.run(run())
        self.assertEqual([m for m, _ in self.sent], ["setAlarm", "put", "delete"])
        self.assertEqual(self.sent[0][1], ("tok", 1000.0))
        self.assertEqual((got, again, gone), ({"n": [1, 2]}, {"n": [1]}, None))

    def test_puts_go_out_coalesced_and_reads_fill_the_cache(self):
        async def run():
            s = Storage("tok", "Counter 1")
            for i in range(5):
                await s.put(f"k{i}", i)
            await s.put("k0", "last")
            await s.sync()
            first = await s.get("other")  # a miss: asks the host, then remembers
            second = await s.get("other")
            many = await s.get(["k0", "k3"])
            return first, second, many

        first, second, many = asyncio.run(run())
        self.assertEqual([m for m, _ in self.sent], ["put", "get"])
        self.assertEqual(self.sent[0][1][1], {"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k0": "last"})
        self.assertEqual((first, second, many), (2, 2, {"k0": "last", "k3": 3}))

    def test_cached_reads_are_copies_flat_or_deep(self):
        async def run():
            s = Storage("tok", "Counter 1")
            flat = {"i": 1, "name": "a"}
            deep = {"n": [1], "m": {"x": 2}}
            await s.put("flat", flat)
            await s.put("deep", deep)
            await s.put("list", [1, "b"])
            flat["i"] = 99  # a change after put() is not what was stored
            deep["n"].append(99)
            got = await s.get("flat")
            got["i"] = 5  # nor does a change to what a read gave
            nested = await s.get("deep")
            nested["m"]["x"] = 7
            lst = await s.get("list")
            lst.append(3)
            return got, await s.get("flat"), await s.get("deep"), await s.get("list")

        got, flat, deep, lst = asyncio.run(run())
        self.assertEqual(got, {"i": 5, "name": "a"})
        self.assertEqual(flat, {"i": 1, "name": "a"})
        self.assertEqual(flat.name, "a")  # a JsDict, as a read from the host gives
        self.assertEqual(deep, {"n": [1], "m": {"x": 2}})
        self.assertEqual(lst, [1, "b"])
        self.assertEqual([m for m, _ in self.sent], [])  # nothing went out yet: no await

    def test_puts_after_another_call_go_in_a_new_batch(self):
        async def run():
            s = Storage("tok", "Counter 1")
            s.put("a", 1)
            s.put("b", 2)
            s.delete("x")
            s.put("c", 3)
            await s._settle()

        asyncio.run(run())
        self.assertEqual(
            self.sent,
            [
                ("put", ("tok", {"a": 1, "b": 2})),
                ("delete", ("tok", "x")),
                ("put", ("tok", {"c": 3})),
            ],
        )

    def test_a_failed_unawaited_write_fails_the_event(self):
        async def run():
            s = Storage("tok", "Counter 1")
            s._call("fail")
            with self.assertRaisesRegex(RuntimeError, "write failed"):
                await s._settle()

        asyncio.run(run())

    def test_put_refuses_none(self):
        with self.assertRaisesRegex(TypeError, "use delete"):
            Storage("t", "C").put("k", None)


if __name__ == "__main__":
    unittest.main()
