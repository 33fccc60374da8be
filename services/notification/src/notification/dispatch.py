"""The sender loop: plumbing around `Delivery.send_many` (usecases/sending.py).

Each pass takes the queued notices due now and attempts them as one batch; a wakeup
(new notices stored) starts the next pass at once instead of at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

from notification.usecases.sending import Delivery

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        delivery: Delivery,
        wakeup: asyncio.Event,
        close: Callable[[], Awaitable[None]],
        attempts: Counter | None = None,
    ) -> None:
        self._delivery = delivery
        self._wakeup = wakeup
        """Set by whoever stores notices (`wakeup.set`)."""
        self._close = close
        self._attempts = attempts
        """Prometheus counter of delivery attempts by notice kind and resulting status."""
        self._poll = delivery.config.poll_seconds
        self._owner = uuid.uuid4().hex
        self.attempted = 0

    async def run(self) -> None:
        try:
            while True:
                self._wakeup.clear()
                try:
                    await self.send_due()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery pass failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll)
        finally:
            await self._close()

    async def send_due(self) -> int:
        """One pass over the notices due now; returns how many this replica attempted."""
        attempted = await self._delivery.send_many(await self._delivery.due(), self._owner)
        if self._attempts is not None:
            for a in attempted:
                self._attempts.labels(a.kind, a.result.status.value).inc()
        self.attempted += len(attempted)
        return len(attempted)
