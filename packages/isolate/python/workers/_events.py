"""Non-fetch events as Cloudflare's Python SDK shows them: cron ``scheduled`` and ``queue``.

Pure Python (importable under CPython): the runtime converts the JS event to Python values
before building these, and turns :meth:`MessageBatch._outcomes` back into data for the host.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Literal

Action = Literal["ack", "retry"]


class ScheduledController:
    """A cron trigger firing: ``cron`` is the schedule, ``scheduled_time`` the ms since epoch."""

    __slots__ = ("cron", "scheduled_time", "_no_retry")

    type = "scheduled"

    def __init__(self, cron: str, scheduled_time: float) -> None:
        self.cron = cron
        self.scheduled_time = scheduled_time
        self._no_retry = False

    @property
    def scheduledTime(self) -> float:  # noqa: N802 - Cloudflare's JS spelling
        return self.scheduled_time

    def no_retry(self) -> None:
        """Do not retry this event if the handler fails (Cloudflare's ``noRetry()``)."""
        self._no_retry = True

    noRetry = no_retry

    def __repr__(self) -> str:
        return f"ScheduledController(cron={self.cron!r}, scheduled_time={self.scheduled_time!r})"


class Message:
    """One queue message: ``id``, ``timestamp`` (a UTC datetime), ``body``, ``attempts``."""

    __slots__ = ("id", "timestamp", "body", "attempts", "_action", "_delay")

    def __init__(self, id: str, timestamp: datetime.datetime, body: Any, attempts: int) -> None:
        self.id = id
        self.timestamp = timestamp
        self.body = body
        self.attempts = attempts
        self._action: Action | None = None
        self._delay: int | None = None

    def ack(self) -> None:
        """Mark the message delivered: it is not redelivered, whatever happens next."""
        self._decide("ack", None)

    def retry(
        self, delay_seconds: int | None = None, *, delaySeconds: int | None = None  # noqa: N803
    ) -> None:
        """Redeliver the message later (after ``delay_seconds``, if given)."""
        self._decide("retry", _delay(delay_seconds if delay_seconds is not None else delaySeconds))

    def _decide(self, action: Action, delay: int | None) -> None:
        # As on Cloudflare, the first explicit call wins; later ones are ignored.
        if self._action is None:
            self._action = action
            self._delay = delay

    def __repr__(self) -> str:
        return f"Message(id={self.id!r}, attempts={self.attempts})"


def _delay(value: Any) -> int | None:
    if isinstance(value, Mapping):
        # The JS shape, ``msg.retry({"delaySeconds": 30})``, as Cloudflare's SDK passes it on.
        value = value.get("delaySeconds", value.get("delay_seconds"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"delay_seconds must be a number of seconds >= 0, got {value!r}")
    return int(value)


class MessageBatch:
    """A batch of messages from queue ``queue``; decide per message or for all at once."""

    __slots__ = ("queue", "messages", "_all", "_all_delay")

    type = "queue"

    def __init__(self, queue: str, messages: Iterable[Message]) -> None:
        self.queue = queue
        self.messages = list(messages)
        self._all: Action | None = None
        self._all_delay: int | None = None

    def ack_all(self) -> None:
        """Ack every message not already acked or retried on its own."""
        if self._all is None:
            self._all = "ack"

    def retry_all(
        self, delay_seconds: int | None = None, *, delaySeconds: int | None = None  # noqa: N803
    ) -> None:
        """Retry every message not already acked or retried on its own."""
        if self._all is None:
            self._all = "retry"
            self._all_delay = _delay(delay_seconds if delay_seconds is not None else delaySeconds)

    ackAll = ack_all
    retryAll = retry_all

    def _outcomes(self, raised: bool) -> list[dict[str, Any]]:
        """Each message's final action: its own call, else the batch's, else ack (retry when
        the handler raised)."""
        out = []
        for msg in self.messages:
            if msg._action is not None:
                action, delay = msg._action, msg._delay
            elif self._all is not None:
                action, delay = self._all, self._all_delay
            else:
                action, delay = ("retry" if raised else "ack"), None
            entry: dict[str, Any] = {"id": msg.id, "action": action}
            if action == "retry" and delay is not None:
                entry["delaySeconds"] = delay
            out.append(entry)
        return out

    def __repr__(self) -> str:
        return f"MessageBatch(queue={self.queue!r}, messages={len(self.messages)})"


def _body(value: Any) -> Any:
    # Pyodide converts a JS Uint8Array to a memoryview; a message body is plain bytes.
    return bytes(value) if isinstance(value, (memoryview, bytearray)) else value


def _timestamp(ms: Any) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(float(ms) / 1000, tz=datetime.UTC)


def event_from_data(data: Mapping[str, Any]) -> ScheduledController | MessageBatch:
    """Builds the handler's argument from the event's data (already Python values)."""
    kind = data.get("type")
    if kind == "scheduled":
        return ScheduledController(str(data["cron"]), float(data["scheduledTime"]))
    if kind == "queue":
        messages = [
            Message(
                str(m["id"]), _timestamp(m["timestamp"]), _body(m.get("body")), int(m["attempts"])
            )
            for m in data["messages"]
        ]
        return MessageBatch(str(data["queue"]), messages)
    raise ValueError(f"unknown event type {kind!r}; expected 'scheduled' or 'queue'")


def event_result(
    event: ScheduledController | MessageBatch, error: str | None
) -> dict[str, Any]:
    """The data the host gets back: the outcome, and for a batch each message's action."""
    result: dict[str, Any] = {"type": event.type, "outcome": "ok" if error is None else "exception"}
    if error is not None:
        result["error"] = error
    if isinstance(event, ScheduledController):
        result["noRetry"] = event._no_retry
    else:
        result["messages"] = event._outcomes(error is not None)
    return result
