"""Header normalisation shared by Request, Response, fetch and the adapters (CPython)."""

import unittest

from workers._env import Env, env, patch_env
from workers._headers import has, to_message, to_pairs


class Headers(unittest.TestCase):
    def test_pairs_from_dicts_lists_and_messages(self):
        self.assertEqual(to_pairs({"X-A": "1", "X-N": 5}), [("x-a", "1"), ("x-n", "5")])
        pairs = to_pairs([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        self.assertEqual(to_message(pairs).get_all("set-cookie"), ["a=1", "b=2"])
        self.assertTrue(has(pairs, "set-cookie"))

    def test_injection_and_bad_names_are_refused(self):
        with self.assertRaisesRegex(TypeError, "contains CR, LF or NUL"):
            to_pairs({"x": "1\r\nx-b: 2"})
        with self.assertRaisesRegex(TypeError, "invalid header name"):
            to_pairs({"bad name": "1"})


class EnvMapping(unittest.TestCase):
    def test_env_is_a_read_only_mapping_that_hides_values_in_repr(self):
        from collections.abc import Mapping

        env = Env({"TOKEN": "secret", "WHO": "me"})
        self.assertIsInstance(env, Mapping)
        self.assertEqual(dict(env), {"TOKEN": "secret", "WHO": "me"})
        self.assertEqual((env.WHO, env["WHO"], env.get("NO", 1)), ("me", "me", 1))
        self.assertNotIn("secret", repr(env))
        with self.assertRaisesRegex(AttributeError, "env has no binding 'NOPE'"):
            env.NOPE  # noqa: B018
        with self.assertRaises(AttributeError):
            env.WHO = "x"


    def test_patch_env_overrides_inside_the_block_only(self):
        env._replace({"A": "1"})
        with patch_env({"B": "2"}, A="x"):
            self.assertEqual(dict(env), {"A": "x", "B": "2"})
        self.assertEqual(dict(env), {"A": "1"})
        env._replace({})


if __name__ == "__main__":
    unittest.main()
