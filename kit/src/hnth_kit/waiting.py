"""Waiting for an event with a timeout, in a loop that must stop when cancelled."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_event(event: asyncio.Event, timeout: float) -> None:
    """Until `event` is set or `timeout` seconds have passed.

    Not `asyncio.wait_for`: on Python 3.11 a cancel arriving just as the event is set is
    swallowed (wait_for returns the result instead, CPython gh-86296), and a `while True`
    relay or dispatcher loop then never stops; `asyncio.timeout` passes the cancel on."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()
