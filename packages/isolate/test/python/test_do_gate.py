"""The input gate of a Durable Object: one event at a time, open during outgoing calls."""

import asyncio
import unittest

from workers import _do_gate


async def event(gate, log, name, body):
    await gate.enter()
    turn, token = _do_gate.begin(gate)
    try:
        log.append(f"{name} in")
        await body()
        log.append(f"{name} out")
    finally:
        _do_gate.end(turn, token)


class Gate(unittest.TestCase):
    def test_events_run_one_at_a_time_in_order(self):
        async def run():
            gate, log = _do_gate.Gate(), []

            async def turns():
                for _ in range(3):
                    await asyncio.sleep(0)  # a turn of the loop, no timer: the gate stays closed

            await asyncio.gather(*(event(gate, log, n, turns) for n in "abc"))
            return log

        self.assertEqual(
            asyncio.run(run()), ["a in", "a out", "b in", "b out", "c in", "c out"]
        )

    def test_a_timer_lets_the_next_event_in_as_on_cloudflare(self):
        async def run():
            gate, log = _do_gate.Gate(), []

            async def sleepy():
                await asyncio.sleep(0.05)  # a timer: the gate is open meanwhile
                log.append("woke")

            await asyncio.wait_for(
                asyncio.gather(*(event(gate, log, n, sleepy) for n in "abc")), 5
            )
            return log, gate.busy

        log, busy = asyncio.run(run())
        # All three were in before the first woke; each finished once it had the gate back.
        self.assertEqual(log[:3], ["a in", "b in", "c in"])
        self.assertEqual(sorted(log[3:]), ["a out", "b out", "c out", "woke", "woke", "woke"])
        self.assertFalse(busy)
        self.assertEqual(asyncio.sleep.__name__, "_gated_sleep")

    def test_an_outgoing_call_lets_the_next_event_in_then_waits_its_turn(self):
        async def run():
            gate, log = _do_gate.Gate(), []
            inner_done = asyncio.Event()

            async def outer():
                async def call():  # a stub call that reaches this same object
                    await event(gate, log, "inner", inner)
                    return 7

                log.append(f"got {await _do_gate.outgoing(call())}")

            async def inner():
                inner_done.set()

            await asyncio.wait_for(event(gate, log, "outer", outer), 2)
            return log, inner_done.is_set(), gate.busy

        log, ran, busy = asyncio.run(run())
        self.assertTrue(ran)
        self.assertEqual(log, ["outer in", "inner in", "inner out", "got 7", "outer out"])
        self.assertFalse(busy)

    def test_outside_an_event_outgoing_just_awaits(self):
        async def run():
            async def value():
                return 3

            return await _do_gate.outgoing(value())

        self.assertEqual(asyncio.run(run()), 3)

    def test_a_waiting_event_keeps_its_place_when_the_gate_reopens(self):
        async def run():
            gate, log = _do_gate.Gate(), []
            release = asyncio.Event()

            async def outer():
                async def call():
                    await release.wait()

                await _do_gate.outgoing(call())

            async def quick():
                pass

            first = asyncio.ensure_future(event(gate, log, "outer", outer))
            await asyncio.sleep(0)
            second = asyncio.ensure_future(event(gate, log, "second", quick))
            await asyncio.sleep(0.01)  # second ran while outer waited for its call
            release.set()
            await asyncio.wait_for(asyncio.gather(first, second), 2)
            return log, gate.busy

        log, busy = asyncio.run(run())
        self.assertEqual(log, ["outer in", "second in", "second out", "outer out"])
        self.assertFalse(busy)


if __name__ == "__main__":
    unittest.main()
