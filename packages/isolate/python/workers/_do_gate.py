"""A Durable Object's input gate: its events run one at a time, in arrival order.

As on Cloudflare, the gate opens while the running event waits for an outgoing call (a
Durable Object stub or a service binding: fetch or RPC; an outbound ``fetch()`` and the reads
of its body; a timer, ``await asyncio.sleep(seconds)`` with seconds > 0), so that another
event of the object may run meanwhile: an object that calls itself through a stub, or
A -> B -> A, gets its answer instead of waiting for itself. Storage calls never open it (they
do not suspend), so ``v = await get(); await put(v + 1)`` still never loses an update; nor
does ``asyncio.sleep(0)`` (a turn of the event loop). When the outgoing call returns, the event
waits for its turn again. Pure Python: importable under CPython.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable
from typing import Any


class Gate:
    """Entered by one event at a time; the next waiting one gets it handed over, in order."""

    __slots__ = ("busy", "waiters")

    def __init__(self) -> None:
        self.busy = False
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        if not self.busy:
            self.busy = True
            return
        waiter: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # handed over just as it was cancelled: pass it on
            else:
                self.waiters.remove(waiter)
            raise

    def leave(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # still busy: handed over
                return
        self.busy = False


class Turn:
    """One event's hold on its object's gate (shared by the tasks the event starts)."""

    __slots__ = ("gate", "holding", "out", "back", "done")

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.holding = True
        self.out = 0  # outgoing calls in flight that opened the gate
        self.back: asyncio.Future[None] | None = None  # waiting for the gate again
        self.done = False

    def finish(self) -> None:
        """The event is over: its turn goes to the next event (now, or once it is back)."""
        self.done = True
        if self.holding:
            self.holding = False
            self.gate.leave()
        elif self.back is not None:
            gate = self.gate
            self.back.add_done_callback(lambda f: None if f.cancelled() else gate.leave())


_turn: contextvars.ContextVar[Turn | None] = contextvars.ContextVar(
    "pyworkers_do_turn", default=None
)


def begin(gate: Gate) -> tuple[Turn, contextvars.Token[Turn | None]]:
    """The turn of the event that just entered ``gate`` (outgoing calls made in it see it)."""
    turn = Turn(gate)
    return turn, _turn.set(turn)


def end(turn: Turn, token: contextvars.Token[Turn | None]) -> None:
    turn.finish()
    _turn.reset(token)


async def outgoing(call: Awaitable[Any]) -> Any:
    """Awaits an outgoing call with the gate open (inside an object's event), then waits for
    the event's turn again; outside an object's event it is just ``await call``."""
    turn = _turn.get()
    if turn is None or turn.done:
        return await call
    if turn.holding:
        turn.holding = False
        turn.gate.leave()
    turn.out += 1
    try:
        return await call
    finally:
        turn.out -= 1
        if turn.out == 0 and not turn.holding and not turn.done:
            if turn.back is None:
                turn.back = asyncio.ensure_future(turn.gate.enter())
            back = turn.back
            await asyncio.shield(back)
            if turn.back is back:
                turn.back = None
                turn.holding = True


_sleep = asyncio.sleep


async def _gated_sleep(delay: float, result: Any = None) -> Any:
    """``asyncio.sleep`` as an object's events see it: a timer opens the gate (see above)."""
    if delay > 0:
        turn = _turn.get()
        if turn is not None and not turn.done:
            return await outgoing(_sleep(delay, result))
    return await _sleep(delay, result)


# Installed once, on import (the SDK imports this module): outside an object's event, and for
# sleep(0), it is the original asyncio.sleep.
if getattr(asyncio.sleep, "__name__", "") != "_gated_sleep":
    asyncio.sleep = _gated_sleep
