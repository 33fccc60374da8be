"""Inspection's collection: one checklist per (meeting, endpoint)."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from hnth_kit.mongo import Document

CHECKLISTS = "checklists"


class InspectionStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._checklists = db[CHECKLISTS]

    async def setup(self) -> None:
        await self._checklists.create_index([("meeting_id", ASCENDING)])

    async def open_checklists(self, checklists: list[Document]) -> None:
        """Insert the checklists; those already open (a redelivery) stay as they are."""
        try:
            await self._checklists.insert_many(checklists, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    async def for_meeting(self, meeting_id: str, tenant: str) -> list[Document]:
        cursor = self._checklists.find({"meeting_id": meeting_id, "tenant": tenant})
        return [doc async for doc in cursor.sort("endpoint", ASCENDING)]
