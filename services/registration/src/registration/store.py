"""Registration's collections: meetings (with their outbox) and their timelines.

Timeline entries are inserted, one per consumed event, keyed by the event id: an insert
is atomic and idempotent on both FerretDB and MongoDB, and never races the HTTP writes
to the meeting document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, Topics
from hnth_kit.idempotency import insert_once
from hnth_kit.mongo import Document
from hnth_kit.outbox import hide_outbox

MEETINGS = "meetings"
TIMELINE = "timeline"


class RegistrationStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self._meetings = db[MEETINGS]
        self._timeline = db[TIMELINE]
        self._topics = topics

    async def setup(self) -> None:
        await self._meetings.create_index("idempotency_key", unique=True, sparse=True)
        await self._timeline.create_index([("meeting_id", ASCENDING), ("at", ASCENDING)])

    async def create_meeting(self, meeting: Document, event: Event) -> Document:
        """Store a meeting and its MeetingRequested in one write (idempotent by key)."""
        try:
            await insert_once(
                self._meetings, meeting, str(event.event_id), events=[event], topics=self._topics
            )
        except DuplicateKeyError:
            existing = await self._meetings.find_one(
                {"idempotency_key": meeting.get("idempotency_key")}, hide_outbox()
            )
            if existing is None:
                raise
            return existing
        return await self.meeting(meeting["_id"]) or meeting

    async def meeting(self, meeting_id: str) -> Document | None:
        return await self._meetings.find_one({"_id": meeting_id}, hide_outbox())

    async def add_to_timeline(self, event: Event, meeting_id: str, summary: dict[str, Any]) -> None:
        try:
            await self._timeline.insert_one(
                {
                    "_id": str(event.event_id),
                    "meeting_id": meeting_id,
                    "type": event.type,
                    "at": event.occurred_at,
                    **summary,
                }
            )
        except DuplicateKeyError:
            pass  # this event is already on the timeline

    async def timeline(self, meeting_id: str) -> list[Document]:
        cursor = self._timeline.find({"meeting_id": meeting_id}).sort("at", ASCENDING)
        return [doc async for doc in cursor]


def status_from(timeline: list[Document], base: str) -> str:
    """The meeting's status: the latest decision on its timeline."""
    status = base
    for entry in timeline:
        status = {"SlotAssigned": "scheduled", "SlotRejected": "rejected"}.get(
            entry["type"], status
        )
    return status


def iso(value: datetime) -> str:
    return value.isoformat()
