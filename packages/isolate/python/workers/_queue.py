"""``env.MY_QUEUE``: a queue producer, as Cloudflare's ``Queue``."""

from ._bindings import call
from ._convert import options


class Queue:
    """``await send(body)`` and ``await send_batch([{"body": ...}, ...])``.

    A body is str, bytes, or JSON-like data (dicts, lists, numbers, None).
    """

    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"Queue({self._name!r})"

    async def send(self, body, given=None, **opts):
        """Sends one message; options ``content_type``, ``delay_seconds``."""
        await call(self._name, "send", body, options(given, **opts))

    async def send_batch(self, messages, given=None, **opts):
        """Sends messages (each ``{"body": ..., "content_type"?, "delay_seconds"?}``) at once."""
        batch = []
        for m in messages:
            if not isinstance(m, dict) or "body" not in m:
                raise TypeError(
                    f"{self._name}.send_batch(): each message is a dict with a 'body', got {m!r}"
                )
            rest = {k: v for k, v in m.items() if k != "body"}
            batch.append({"body": m["body"], **options(rest)})
        await call(self._name, "sendBatch", batch, options(given, **opts))

    sendBatch = send_batch
