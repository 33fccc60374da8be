"""Scheduling's collections: one decision document per meeting (with its outbox)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from hnth_contracts import Event, Topics
from hnth_kit.idempotency import insert_once
from hnth_kit.mongo import Document

DECISIONS = "decisions"


class SchedulingStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self._decisions = db[DECISIONS]
        self._topics = topics

    async def record_decision(self, meeting_id: str, cause: str, decision: Event) -> bool:
        """Store the decision with its event in one write; False if this cause was applied."""
        return await insert_once(
            self._decisions,
            {"_id": meeting_id, "type": decision.type, "tenant": decision.tenant},
            cause,
            events=[decision],
            topics=self._topics,
        )
