"""Handlers called by signature, as Cloudflare's SDK calls them (CPython, no Pyodide)."""

import types
import unittest

from workers import WorkerEntrypoint
from workers._calls import FunctionCaller, MethodCaller, positional_arity, resolve_handlers


def module(**attrs):
    mod = types.ModuleType("entry")
    for name, value in attrs.items():
        setattr(mod, name, value)
    return mod


class PositionalArity(unittest.TestCase):
    def test_counts_positional_parameters(self):
        self.assertEqual(positional_arity(lambda: 0), 0)
        self.assertEqual(positional_arity(lambda a, b=1, *, c=2: 0), 2)

    def test_star_args_take_everything(self):
        self.assertIsNone(positional_arity(lambda a, *rest: 0))

    def test_unreadable_signature_gets_everything(self):
        self.assertIsNone(positional_arity(print))


class Default(WorkerEntrypoint):
    def fetch(self):
        return ("fetch", self.env)

    def scheduled(self, controller, env, ctx):
        return ("scheduled", controller, env, ctx)

    def queue(self, batch, *rest):
        return ("queue", batch, rest)


class MethodCalls(unittest.TestCase):
    def test_each_method_gets_what_it_declares(self):
        self.assertEqual(MethodCaller(Default, "fetch")("req", "env", "ctx"), ("fetch", "env"))
        self.assertEqual(
            MethodCaller(Default, "scheduled")("ctl", "env", "ctx"),
            ("scheduled", "ctl", "env", "ctx"),
        )
        queue = MethodCaller(Default, "queue")
        self.assertEqual(queue("b", "env", "ctx"), ("queue", "b", ("env", "ctx")))

    def test_functions_get_what_they_declare(self):
        self.assertEqual(FunctionCaller(lambda r: r)("req", "env", "ctx"), "req")
        self.assertEqual(FunctionCaller(lambda r, e: (r, e))("req", "env", "ctx"), ("req", "env"))


class Resolve(unittest.TestCase):
    def test_default_class_wins_and_lists_its_events(self):
        found = resolve_handlers(module(Default=Default, on_fetch=lambda r: r))
        self.assertEqual(sorted(found), ["fetch", "queue", "scheduled"])
        self.assertIsInstance(found["fetch"], MethodCaller)

    def test_a_cron_only_worker_is_valid(self):
        found = resolve_handlers(module(on_scheduled=lambda c: None))
        self.assertEqual(list(found), ["scheduled"])

    def test_no_handler_says_what_to_define(self):
        with self.assertRaisesRegex(TypeError, "defines neither class Default"):
            resolve_handlers(module(X=1))

        class Empty(WorkerEntrypoint):
            pass

        with self.assertRaisesRegex(TypeError, r"entry.Default has no fetch\(self, request\)"):
            resolve_handlers(module(Default=Empty))


if __name__ == "__main__":
    unittest.main()
