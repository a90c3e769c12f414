"""Host results as Python values and binding-call options (CPython, no Pyodide)."""

import copy
import json
import unittest

from workers import JsDict
from workers._bindings import _store_result
from workers._convert import camel, json_plain, options, python_value
from workers._kv import KVListResult


class PythonValues(unittest.TestCase):
    def test_dicts_read_as_attributes_and_stay_dicts(self):
        row = python_value({"title": "a", "nested": {"n": [1, {"x": None}]}})
        self.assertIsInstance(row, JsDict)
        self.assertIsInstance(row, dict)
        self.assertEqual(row.title, "a")
        self.assertEqual(row.nested.n[1].x, None)
        plain = {"title": "a", "nested": {"n": [1, {"x": None}]}}
        self.assertEqual(json.loads(json.dumps(row)), plain)
        self.assertEqual(copy.deepcopy(row), row)

    def test_missing_attribute_names_the_keys(self):
        message = r"'nope' is not in this result \(keys: title\)"
        with self.assertRaisesRegex(AttributeError, message):
            _ = python_value({"title": "a"}).nope

    def test_buffers_become_bytes(self):
        self.assertEqual(python_value([memoryview(b"ab"), bytearray(b"c")]), [b"ab", b"c"])


class Options(unittest.TestCase):
    def test_snake_case_becomes_camel_case(self):
        self.assertEqual(camel("expiration_ttl"), "expirationTtl")
        self.assertEqual(camel("cacheTtl"), "cacheTtl")

    def test_dict_and_keywords_merge_and_none_means_not_given(self):
        self.assertEqual(
            options({"limit": 5, "cursor": None}, prefix="a", expiration_ttl=None),
            {"limit": 5, "prefix": "a"},
        )

    def test_options_must_be_a_dict(self):
        with self.assertRaisesRegex(TypeError, "options must be a dict, got list"):
            options([1])


class KVList(unittest.TestCase):
    def test_keys_is_the_listed_keys_and_still_the_dict_method(self):
        result = KVListResult({"keys": [{"name": "a"}], "list_complete": True})
        self.assertEqual([k["name"] for k in result.keys], ["a"])
        self.assertEqual(list(result.keys()), ["keys", "list_complete"])
        self.assertTrue(result.list_complete)


class StoreCallValues(unittest.TestCase):
    def test_answers_in_their_tagged_form(self):
        self.assertEqual(_store_result("sj{not json"), "j{not json")
        self.assertEqual(_store_result("s"), "")
        self.assertIsNone(_store_result(None))
        row = _store_result('j{"a":{"b":[1,{"c":null}]},"n":1.5}')
        self.assertIsInstance(row, JsDict)
        self.assertEqual(row.a.b[1].c, None)
        self.assertIsInstance(row.a.b[1], JsDict)
        self.assertEqual(row.n, 1.5)

    def test_json_only_for_what_js_reads_back_unchanged(self):
        self.assertTrue(json_plain(("sql", [1, None, "x", 2.5, True], {"k": {"v": []}})))
        self.assertFalse(json_plain((b"bytes",)))
        self.assertFalse(json_plain((2**53,)))
        self.assertFalse(json_plain((float("nan"),)))
        self.assertFalse(json_plain(({1: "int key"},)))


if __name__ == "__main__":
    unittest.main()
