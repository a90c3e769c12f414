import json as _json


class Request:
    """An incoming HTTP request, as Cloudflare's ``workers.Request``."""

    def __init__(self, method, url, headers, body=b""):
        self.method = method
        self.url = url
        self.headers = dict(headers)
        self._body = bytes(body)

    async def bytes(self):
        return self._body

    async def text(self):
        return self._body.decode("utf-8")

    async def json(self):
        return _json.loads(self._body)
