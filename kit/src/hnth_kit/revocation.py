"""Revoked sign-ins: every service keeps the `TokensRevoked` facts in its own database and
a copy in memory, so checking a token costs no call and no query.

One replica of a service consumes each fact (the group splits partitions); every replica
reads the rows again every `refresh_seconds`, so a revocation reaches all of them well
within a minute. Rows are inserted, never updated (one per event): replicas and
redeliveries cannot overwrite each other.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from hnth_contracts import TokensRevoked
from hnth_kit.auth import Principal
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document, insert_new

log = logging.getLogger(__name__)

REVOCATIONS = "revocations"
KEEP = timedelta(days=31)
"""How long a revocation matters: longer than any token lives (refresh tokens included)."""


class RevocationList:
    def __init__(self, db: AsyncDatabase[Document], clock: Clock, refresh_seconds: float) -> None:
        self._rows = db[REVOCATIONS]
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._not_before: dict[tuple[str, str], datetime] = {}

    def refuses(self, who: Principal) -> bool:
        """A token issued before its subject's latest revocation is refused."""
        cutoff = self._not_before.get((who.tenant, who.subject))
        return cutoff is not None and (who.issued_at is None or who.issued_at < cutoff)

    async def record(self, event: TokensRevoked) -> None:
        await insert_new(
            self._rows,
            [
                {
                    "_id": str(event.event_id),
                    "tenant": event.tenant,
                    "subject": event.subject,
                    "not_before": event.not_before,
                    "reason": event.reason,
                }
            ],
        )
        self._note(event.tenant, event.subject, event.not_before)

    async def refresh(self) -> None:
        since = self._clock.now() - KEEP
        cursor = self._rows.find({"not_before": {"$gte": since}})
        fresh: dict[tuple[str, str], datetime] = {}
        async for row in cursor:
            key = (row["tenant"], row["subject"])
            fresh[key] = max(fresh.get(key, row["not_before"]), row["not_before"])
        self._not_before = fresh

    async def run(self) -> None:
        """Refresh from the database until cancelled (a background task of the service)."""
        while True:
            try:
                await self.refresh()
            except Exception:  # the database is down: keep the last list, try again
                log.warning("revocation list refresh failed", exc_info=True)
            await asyncio.sleep(self._refresh_seconds)

    def _note(self, tenant: str, subject: str, not_before: datetime) -> None:
        known = self._not_before.get((tenant, subject))
        if known is None or known < not_before:
            self._not_before[(tenant, subject)] = not_before
