import json as _json


class Response:
    """An HTTP response, as Cloudflare's ``workers.Response``."""

    def __init__(self, body=None, status=200, headers=None):
        self.status = int(status)
        self.headers = dict(headers or {})
        if body is None:
            self.body = b""
        elif isinstance(body, str):
            self.body = body.encode("utf-8")
            # A JS Response built from a string gets this content type; match it.
            self.headers.setdefault("content-type", "text/plain;charset=UTF-8")
        else:
            self.body = bytes(body)

    @classmethod
    def json(cls, data, status=200, headers=None):
        merged = {"content-type": "application/json"}
        merged.update(headers or {})
        return cls(_json.dumps(data), status=status, headers=merged)
