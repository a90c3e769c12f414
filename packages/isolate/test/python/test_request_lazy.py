"""The incoming request's JS Request is built on first use, once (under CPython: a stand-in for
the worker thread's IncomingRequest)."""

import unittest

from workers._request import Request


class FakeJsRequest:
    method = "JS-METHOD"
    url = "http://js/"
    bodyUsed = False
    body = None

    def __init__(self):
        self.headers = [("accept", "*/*"), ("x-a", "1")]


class FakeIncoming:
    def __init__(self):
        self.method = "POST"
        self.url = "http://127.0.0.1/path?q=1"
        self.built = 0

    def request(self):
        self.built += 1
        return FakeJsRequest()


class LazyRequest(unittest.TestCase):
    def test_method_and_url_do_not_build_the_js_request(self):
        incoming = FakeIncoming()
        request = Request._wrap_lazy(incoming)
        self.assertEqual(request.method, "POST")
        self.assertEqual(request.url, "http://127.0.0.1/path?q=1")
        self.assertIn("POST", repr(request))
        self.assertEqual(incoming.built, 0)

    def test_headers_body_and_js_object_build_it_once(self):
        incoming = FakeIncoming()
        request = Request._wrap_lazy(incoming)
        self.assertEqual(request.headers.get("x-a"), "1")
        self.assertEqual(incoming.built, 1)
        js = request.js_object
        self.assertIsInstance(js, FakeJsRequest)
        self.assertIs(request.js_object, js)
        self.assertIsNone(request.body)
        self.assertFalse(request.body_used)
        self.assertEqual(incoming.built, 1)


if __name__ == "__main__":
    unittest.main()
