"""Cron and queue events as the handler sees them, and the outcomes sent back (CPython)."""

import datetime
import unittest

from workers._events import MessageBatch, ScheduledController, event_from_data, event_result


def batch(*bodies):
    return event_from_data(
        {
            "type": "queue",
            "queue": "jobs",
            "messages": [
                {"id": str(i), "timestamp": 1_700_000_000_000, "body": b, "attempts": 1}
                for i, b in enumerate(bodies)
            ],
        }
    )


class Scheduled(unittest.TestCase):
    def test_controller_carries_cron_and_time(self):
        ctl = event_from_data({"type": "scheduled", "cron": "*/5 * * * *", "scheduledTime": 1000})
        self.assertIsInstance(ctl, ScheduledController)
        self.assertEqual(
            (ctl.cron, ctl.scheduled_time, ctl.scheduledTime), ("*/5 * * * *", 1000.0, 1000.0)
        )
        ok = {"type": "scheduled", "outcome": "ok", "noRetry": False}
        self.assertEqual(event_result(ctl, None), ok)
        ctl.no_retry()
        self.assertEqual(
            event_result(ctl, "E: x"),
            {"type": "scheduled", "outcome": "exception", "error": "E: x", "noRetry": True},
        )


class Queue(unittest.TestCase):
    def test_messages_have_id_timestamp_body_attempts(self):
        b = batch({"a": 1}, memoryview(b"\x00\xff"))
        self.assertIsInstance(b, MessageBatch)
        self.assertEqual(b.queue, "jobs")
        first, second = b.messages
        self.assertEqual(first.body, {"a": 1})
        self.assertEqual(second.body, b"\x00\xff")
        sent = datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.UTC)
        self.assertEqual(first.timestamp, sent)

    def test_first_explicit_call_wins(self):
        b = batch(1, 2, 3)
        b.messages[0].ack()
        b.messages[0].retry()
        b.messages[1].retry(delay_seconds=10)
        b.messages[1].ack()
        self.assertEqual(
            b._outcomes(False),
            [
                {"id": "0", "action": "ack"},
                {"id": "1", "action": "retry", "delaySeconds": 10},
                {"id": "2", "action": "ack"},
            ],
        )

    def test_batch_calls_cover_undecided_messages(self):
        b = batch(1, 2)
        b.messages[0].ack()
        b.retry_all(delaySeconds=3)
        b.ack_all()  # ignored: retry_all came first
        self.assertEqual(
            b._outcomes(False),
            [{"id": "0", "action": "ack"}, {"id": "1", "action": "retry", "delaySeconds": 3}],
        )

    def test_a_raising_handler_retries_what_it_did_not_decide(self):
        b = batch(1, 2)
        b.messages[0].ack()
        result = event_result(b, "ValueError: boom")
        self.assertEqual(result["outcome"], "exception")
        self.assertEqual(
            result["messages"], [{"id": "0", "action": "ack"}, {"id": "1", "action": "retry"}]
        )

    def test_delay_in_every_spelling(self):
        b = batch(1, 2, 3)
        b.messages[0].retry({"delaySeconds": 7})
        b.messages[1].retry(delaySeconds=8)
        b.messages[2].retry(9)
        self.assertEqual([o["delaySeconds"] for o in b._outcomes(False)], [7, 8, 9])

    def test_bad_delay_is_refused(self):
        with self.assertRaisesRegex(ValueError, "delay_seconds must be a number of seconds >= 0"):
            batch(1).messages[0].retry(delay_seconds=-1)

    def test_unknown_event_type(self):
        with self.assertRaisesRegex(ValueError, "unknown event type 'email'"):
            event_from_data({"type": "email"})


if __name__ == "__main__":
    unittest.main()
