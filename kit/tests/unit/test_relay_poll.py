"""The relay's poll backs off while passes publish nothing (no broker, no database)."""

from __future__ import annotations

import asyncio

import pytest

from hnth_kit import outbox
from hnth_kit.outbox import OutboxRelay


async def test_the_poll_doubles_while_passes_publish_nothing_and_resets_after_one_that_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    relay = OutboxRelay(None, [], None, poll_seconds=0.25, idle_poll_seconds=1.0)  # type: ignore[arg-type]
    published = iter([0, 0, 0, 3, 0])
    waits: list[float] = []

    async def drain() -> int:
        return next(published)

    async def nothing() -> None:
        pass

    async def no_wait(event: asyncio.Event, timeout: float) -> None:
        waits.append(timeout)  # the wake-up wait: its timeout passes at once
        if len(waits) == 5:
            raise asyncio.CancelledError

    monkeypatch.setattr(relay, "drain", drain)
    monkeypatch.setattr(relay, "ensure_indexes", nothing)
    monkeypatch.setattr(outbox, "wait_event", no_wait)
    with pytest.raises(asyncio.CancelledError):
        await relay.run()
    assert waits == [0.5, 1.0, 1.0, 0.25, 0.5]
