"""Notification's collection: one notice document per (cause, recipient, channel)."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from hnth_kit.mongo import Document

NOTICES = "notices"


class NotificationStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._notices = db[NOTICES]

    async def setup(self) -> None:
        await self._notices.create_index([("meeting_id", ASCENDING)])

    async def add_notices(self, notices: list[Document]) -> None:
        """Insert the notices; those already there (a redelivery) are left as they are."""
        try:
            await self._notices.insert_many(notices, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    async def for_meeting(self, meeting_id: str, tenant: str) -> list[Document]:
        cursor = self._notices.find({"meeting_id": meeting_id, "tenant": tenant})
        return [doc async for doc in cursor.sort("_id", ASCENDING)]
