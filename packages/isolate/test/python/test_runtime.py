"""The runtime's dispatch of events to a worker module, under CPython (no JS involved)."""

import asyncio
import sys
import types
import unittest

import _pyworkers_runtime as runtime


def load(name, source):
    module = types.ModuleType(name)
    exec(source, module.__dict__)
    sys.modules[name] = module
    runtime.load(name)
    return module


CRON_ONLY = """
from workers import WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def scheduled(self, controller):
        controller.no_retry()
        if controller.cron == "boom":
            raise RuntimeError("boom")
"""


class Dispatch(unittest.TestCase):
    def test_a_cron_only_worker_runs_events_and_refuses_requests_clearly(self):
        load("cron_only", CRON_ONLY)
        event = {"type": "scheduled", "cron": "* * * * *", "scheduledTime": 5}
        ok = asyncio.run(runtime.dispatch(event))
        self.assertEqual(ok, ("ok", {"type": "scheduled", "outcome": "ok", "noRetry": True}))
        status, result, tb = asyncio.run(
            runtime.dispatch({"type": "scheduled", "cron": "boom", "scheduledTime": 5})
        )
        self.assertEqual(result["error"], "RuntimeError: boom")
        self.assertIn("in scheduled", tb)
        missing = asyncio.run(runtime.dispatch({"type": "queue", "queue": "q", "messages": []}))
        self.assertEqual(missing[0], "missing")
        self.assertEqual(missing[1], "cron_only has no queue handler")
        self.assertIn("define async def queue(self, batch, env, ctx)", missing[2])
        # The worker thread's fast path: the event as JSON text in, the answer as JSON text out.
        text = '{"type":"scheduled","cron":"* * * * *","scheduledTime":5}'
        answer = asyncio.run(runtime._dispatch_json(text))
        self.assertEqual(answer, '["ok",{"type":"scheduled","outcome":"ok","noRetry":true}]')
        kind, message, _ = asyncio.run(runtime.handle(object()))
        self.assertEqual(kind, "error")
        self.assertIn("cron_only has no fetch handler: define async def fetch", message)


if __name__ == "__main__":
    unittest.main()
