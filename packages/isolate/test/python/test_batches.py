"""workers._batches under CPython: ready chunks share a step (joined into one bytes), a wait
ends the step."""

import asyncio
import unittest

from workers._batches import ChunkBatches, StepBuffer, step_into


async def steps(batches, limit):
    out = []
    while (batch := await batches.next(limit)) is not None:
        out.append(batch)
    return out


class Batches(unittest.TestCase):
    def test_ready_chunks_share_a_step_up_to_the_limit(self):
        async def chunks():
            for i in range(10):
                yield bytes([i]) * 100

        got = asyncio.run(steps(ChunkBatches(chunks()), 250))
        self.assertEqual([[len(p) for p in b] for b in got], [[300], [300], [300], [100]])
        self.assertEqual(b"".join(b"".join(b) for b in got)[::100], bytes(range(10)))

    def test_a_large_chunk_is_not_copied_into_a_join(self):
        big = b"x" * 1000

        async def chunks():
            yield b"a" * 100
            yield big

        got = asyncio.run(steps(ChunkBatches(chunks()), 250))
        self.assertEqual([[len(p) for p in b] for b in got], [[100, 1000]])
        self.assertIs(got[0][1], big)

    def test_a_wait_ends_the_step_and_the_next_step_finishes_it(self):
        async def chunks():
            yield b"a"
            yield b"b"
            await asyncio.sleep(0.01)
            yield b"c"
            await asyncio.sleep(0)
            yield b"d"

        got = asyncio.run(steps(ChunkBatches(chunks()), 1 << 20))
        self.assertEqual(got, [[b"ab"], [b"c"], [b"d"]])

    def test_the_first_chunk_leaves_before_the_producer_finishes(self):
        async def main():
            gate = asyncio.Event()

            async def chunks():
                yield b"first"
                await gate.wait()
                yield b"second"

            batches = ChunkBatches(chunks())
            first = await asyncio.wait_for(batches.next(1 << 20), 1)
            gate.set()
            return first, await batches.next(1 << 20), await batches.next(1 << 20)

        self.assertEqual(asyncio.run(main()), ([b"first"], [b"second"], None))

    def test_an_error_after_chunks_comes_on_the_next_step(self):
        async def chunks():
            yield b"a"
            raise ValueError("boom")

        async def main():
            batches = ChunkBatches(chunks())
            first = await batches.next(1 << 20)
            with self.assertRaisesRegex(ValueError, "boom"):
                await batches.next(1 << 20)
            return first

        self.assertEqual(asyncio.run(main()), [b"a"])

    def test_closing_cancels_a_carried_wait_and_runs_finally(self):
        events = []

        async def chunks():
            try:
                yield b"a"
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    events.append("cancelled")
                    raise
                yield b"never"
            finally:
                events.append("finally")

        async def main():
            batches = ChunkBatches(chunks())
            first = await batches.next(1 << 20)  # leaves the sleep carried over
            second = asyncio.ensure_future(batches.next(1 << 20))
            await asyncio.sleep(0)
            second.cancel()
            await asyncio.gather(second, return_exceptions=True)
            await batches.aclose()
            return first

        self.assertEqual(asyncio.run(main()), [b"a"])
        self.assertEqual(events, ["cancelled", "finally"])

    def test_closing_while_a_wait_is_carried(self):
        events = []

        async def chunks():
            try:
                yield b"a"
                await asyncio.sleep(10)
                yield b"never"
            finally:
                events.append("finally")

        async def main():
            batches = ChunkBatches(chunks())
            await batches.next(1 << 20)
            await batches.aclose()

        asyncio.run(asyncio.wait_for(main(), 2))
        self.assertEqual(events, ["finally"])


def finished(coro):
    """An eager runner for a step that must finish within the call (no wait)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the step waited")


class StepsIntoTheBuffer(unittest.TestCase):
    def test_ready_chunks_are_copied_into_the_buffer(self):
        async def chunks():
            for i in range(5):
                yield bytes([i]) * 100

        buffer = StepBuffer(1000)
        batches = ChunkBatches(chunks())
        self.assertEqual(step_into(batches, 250, buffer, finished), 300)
        self.assertEqual(bytes(buffer.buffer[:300]), b"\0" * 100 + b"\1" * 100 + b"\2" * 100)
        self.assertEqual(step_into(batches, 250, buffer, finished), 200)
        self.assertEqual(bytes(buffer.buffer[:200]), b"\3" * 100 + b"\4" * 100)
        self.assertIsNone(step_into(batches, 250, buffer, finished))

    def test_chunks_past_the_buffer_come_as_they_are(self):
        big = b"x" * 1000

        async def chunks():
            yield b"a" * 100
            yield big

        got = step_into(ChunkBatches(chunks()), 250, StepBuffer(500), finished)
        self.assertEqual([len(p) for p in got], [100, 1000])
        self.assertIs(got[1], big)

    def test_a_step_that_waits_gives_its_chunks_joined(self):
        async def main():
            gate = asyncio.Event()

            async def chunks():
                await gate.wait()
                yield b"a"
                yield b"b"

            batches = ChunkBatches(chunks())
            task = step_into(batches, 250, StepBuffer(500), asyncio.ensure_future)
            self.assertIsInstance(task, asyncio.Task)
            gate.set()
            return await task

        self.assertEqual(asyncio.run(main()), [b"ab"])


if __name__ == "__main__":
    unittest.main()
