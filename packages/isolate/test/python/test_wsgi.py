"""The WSGI adapter's pure parts: the PEP 3333 environ and calling the app (CPython)."""

import unittest
from http.client import HTTPMessage

from workers.wsgi import build_environ, run_app


class FakeRequest:
    def __init__(self, url, method="GET", headers=()):
        self.url = url
        self.method = method
        self.headers = HTTPMessage()
        for name, value in headers:
            self.headers[name] = value


class Environ(unittest.TestCase):
    def test_repeated_cookie_headers_join_with_semicolons(self):
        headers = [("cookie", "a=1"), ("cookie", "b=2"), ("x-m", "1"), ("x-m", "2")]
        req = FakeRequest("http://h/", headers=headers)
        environ = build_environ(req, {}, b"")
        self.assertEqual(environ["HTTP_COOKIE"], "a=1; b=2")
        self.assertEqual(environ["HTTP_X_M"], "1,2")

    def test_body_length_and_native_path(self):
        req = FakeRequest("https://h:8443/caf%C3%A9?q=1", method="POST")
        environ = build_environ(req, {"WHO": "x"}, b"abc")
        self.assertEqual(environ["CONTENT_LENGTH"], "3")
        self.assertEqual(environ["PATH_INFO"], "/café".encode().decode("latin-1"))
        self.assertEqual((environ["SERVER_PORT"], environ["wsgi.url_scheme"]), ("8443", "https"))
        self.assertEqual(environ["wsgi.input"].read(), b"abc")

    def test_relative_url_is_refused(self):
        with self.assertRaisesRegex(ValueError, "not absolute"):
            build_environ(FakeRequest("/x"), {}, b"")


class RunApp(unittest.TestCase):
    def test_status_headers_and_body(self):
        def app(environ, start_response):
            write = start_response("201 Created", [("X-A", "1")])
            write(b"w,")
            return [b"it", b"er"]

        self.assertEqual(run_app(app, {}), (201, "Created", [("x-a", "1")], b"w,iter"))

    def test_an_app_that_never_starts_a_response(self):
        with self.assertRaisesRegex(RuntimeError, "did not call start_response"):
            run_app(lambda environ, start_response: [], {})


if __name__ == "__main__":
    unittest.main()
