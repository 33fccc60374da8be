"""`wait_event`: a loop waiting for its wake-up stops when cancelled, however timed."""

from __future__ import annotations

import asyncio

import pytest

from hnth_kit.waiting import wait_event


async def test_a_cancel_as_the_event_is_set_stops_the_waiter() -> None:
    """The race `asyncio.wait_for` loses on Python 3.11: the event set and the task
    cancelled in one turn of the loop. A relay's `while True` loop hung a service's stop."""
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, 10))
    await asyncio.sleep(0)  # waiting now
    event.set()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_it_returns_when_set_or_timed_out() -> None:
    event = asyncio.Event()
    await wait_event(event, 0.01)
    event.set()
    await wait_event(event, 10)
    assert event.is_set()
