"""RPC values and the called side's checks (CPython: the walks, not the JS conversion)."""

import asyncio
import datetime
import types
import unittest

from workers import RpcError, WorkerEntrypoint
from workers._calls import resolve_handlers
from workers._rpc import TAG, _walk, json_plain, python_value, remote_error, serve


class Walk(unittest.TestCase):
    def test_keeps_what_rpc_carries(self):
        moment = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
        value = {"s": "x", "i": 2**60, "l": [1.5, True, b"\x00"], "d": moment}
        self.assertEqual(_walk(value, []), value)

    def test_refuses_what_cloudflare_refuses(self):
        for bad, hint in [((1, 2), "send a list"), (bytearray(b"x"), "send bytes"), ({1}, "list")]:
            with self.assertRaisesRegex(TypeError, f"cannot be sent over RPC.*{hint}"):
                _walk(bad, [])
        with self.assertRaisesRegex(TypeError, "dict keys sent over RPC must be str"):
            _walk({1: "one"}, [])
        with self.assertRaisesRegex(TypeError, "object cannot be sent over RPC"):
            _walk([object()], [])


class JsonPlain(unittest.TestCase):
    def test_only_what_json_carries_as_rpc_converts_it(self):
        for ok in [None, True, "x", 2**53 - 1, -1.5, [1, [2, {"a": None}]], {"k": {"n": [0.0]}}]:
            self.assertTrue(json_plain(ok), ok)
        tagged = {TAG: "Error", "name": "KeyError", "message": "k"}
        for bad in [(1, 2), 2**53, float("inf"), float("nan"), b"x", {1: "one"}, [{TAG: 1}],
                    tagged, datetime.datetime(2024, 1, 1), [object()]]:
            self.assertFalse(json_plain(bad), bad)


class Arrival(unittest.TestCase):
    def test_dicts_read_as_attributes_and_buffers_are_bytes(self):
        got = python_value({"a": [memoryview(b"hi")], "b": {"c": 1}})
        self.assertEqual(got.a, [b"hi"])
        self.assertEqual(got.b.c, 1)

    def test_a_tagged_error_is_an_exception(self):
        err = python_value({TAG: "Error", "name": "KeyError", "message": "k"})
        self.assertIsInstance(err, KeyError)
        self.assertIsInstance(err, RpcError)


class RemoteErrors(unittest.TestCase):
    def test_builtin_names_are_catchable_as_the_builtin(self):
        err = remote_error("ValueError", "bad", "Traceback ...")
        self.assertIsInstance(err, ValueError)
        self.assertIsInstance(err, RpcError)
        self.assertEqual((err.name, str(err), err.remote_traceback),
                         ("ValueError", "ValueError: bad", "Traceback ..."))

    def test_a_remote_key_error_reads_as_its_line(self):
        err = remote_error("KeyError", "'k'")
        self.assertIsInstance(err, KeyError)
        self.assertEqual(str(err), "KeyError: 'k'")

    def test_other_names_are_rpc_errors(self):
        err = remote_error("MyError", "x")
        self.assertIs(type(err), RpcError)
        self.assertNotIsInstance(remote_error("OSError", "x"), OSError)


class Server(WorkerEntrypoint):
    async def add(self, a, b):
        return a + b

    async def _hidden(self):
        return 1


def run(module, **data):
    class Ctx:
        async def _settle(self):
            pass

    return asyncio.run(serve(module, {"type": "rpc", **data}, {}, Ctx))


class CalledSide(unittest.TestCase):
    def setUp(self):
        self.module = types.ModuleType("entry")
        self.module.Default = Server

    def refusal(self, **data):
        result = run(self.module, **data)[1]
        self.assertEqual(result["outcome"], "exception")
        self.assertEqual(result["error"]["name"], "TypeError")
        return result["error"]["message"]

    def test_refuses_private_and_missing_methods_and_classes(self):
        self.assertRegex(self.refusal(method="_hidden", args=[]), "private")
        self.assertRegex(
            self.refusal(method="nope", args=[]), "does not implement the method 'nope'"
        )
        self.assertRegex(self.refusal(method="add", entrypoint="Other", args=[]),
                         "no entrypoint class 'Other'")

    def test_an_rpc_only_default_is_a_worker(self):
        self.assertEqual(resolve_handlers(self.module), {})
