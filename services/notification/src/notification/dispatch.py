"""The sender loop: plumbing around `Delivery.send_many` (usecases/sending.py).

Notices just stored are handed to the sender by id (`Doorbell.ring`) and attempted at
once, without a read of the queue. The queue is polled every `poll_seconds` for the
rest: retries that came due, notices another replica stored, what a crash left.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import Counter

from hnth_kit.waiting import wait_event
from notification.usecases.sending import Delivery

log = logging.getLogger(__name__)


class Doorbell:
    """What tells the sender that notices are stored: their ids (due now) to attempt at
    once, or none to look at the queue now (an address arrived for waiting notices)."""

    def __init__(self) -> None:
        self._handed: dict[str, None] = {}  # insertion-ordered set: oldest first
        self._look = False
        self._rung = asyncio.Event()

    def ring(self, notice_ids: Sequence[str] = ()) -> None:
        self._handed.update(dict.fromkeys(notice_ids))
        self._look = self._look or not notice_ids
        self._rung.set()

    def take(self, limit: int) -> list[str]:
        taken = list(self._handed)[:limit]
        for notice_id in taken:
            del self._handed[notice_id]
        return taken

    def look_asked(self) -> bool:
        """Whether a look at the queue was asked for since the last call."""
        asked, self._look = self._look, False
        return asked

    def forget(self, notice_ids: Sequence[str]) -> None:
        """Those a queue poll found are not handed again."""
        for notice_id in notice_ids:
            self._handed.pop(notice_id, None)

    async def wait(self, timeout: float) -> None:
        """Until rung or `timeout` seconds, unless ids are waiting already."""
        if self._handed or self._look:
            return
        self._rung.clear()
        await wait_event(self._rung, timeout)


class Dispatcher:
    def __init__(
        self,
        delivery: Delivery,
        doorbell: Doorbell,
        close: Callable[[], Awaitable[None]],
        attempts: Counter | None = None,
    ) -> None:
        self._delivery = delivery
        self._doorbell = doorbell
        self._close = close
        self._attempts = attempts
        """Prometheus counter of delivery attempts by notice kind and resulting status."""
        self._poll = delivery.config.poll_seconds
        self._owner = uuid.uuid4().hex
        self.attempted = 0

    async def run(self) -> None:
        polled = float("-inf")
        try:
            while True:
                poll = self._doorbell.look_asked() or time.monotonic() - polled >= self._poll
                if poll:
                    polled = time.monotonic()
                try:
                    await self.send_due(poll)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery pass failed; retrying")
                await self._doorbell.wait(max(0.0, polled + self._poll - time.monotonic()))
        finally:
            await self._close()

    async def send_due(self, poll: bool = True) -> int:
        """One pass: the notices handed over, and when `poll`, those the queue has due now;
        returns how many this replica attempted."""
        batch = self._delivery.config.batch
        notice_ids = self._doorbell.take(batch)
        if poll:
            due = await self._delivery.due()
            self._doorbell.forget(due)
            notice_ids += [i for i in due if i not in notice_ids]
        if not notice_ids:
            return 0
        attempted = await self._delivery.send_many(notice_ids, self._owner)
        if self._attempts is not None:
            for a in attempted:
                self._attempts.labels(a.kind, a.result.status.value).inc()
        self.attempted += len(attempted)
        return len(attempted)
