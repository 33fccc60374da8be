"""Registration's collections: the directory (units, endpoints, contacts), meetings (each
with its outbox) and their timelines.

Writers are kept apart so FerretDB's read-then-replace updates never race: the HTTP API
writes directory entries and meetings (conditional on their `version` / `revision`); the
consumer only INSERTS timeline entries (keyed by event id) and meetings announced on the
topic by other systems. Inserts are atomic and idempotent on FerretDB and MongoDB alike.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, MeetingChanged, MeetingRequested, Topics
from hnth_kit.idempotency import apply_once, insert_once
from hnth_kit.mongo import Document
from hnth_kit.outbox import announce, hide_outbox, merge_updates, outbox_update

MEETINGS = "meetings"
TIMELINE = "timeline"
UNITS = "units"
ENDPOINTS = "endpoints"
CONTACTS = "contacts"
DIRECTORY = (UNITS, ENDPOINTS, CONTACTS)
DECISIONS = ("SlotAssigned", "SlotRejected", "SlotReleased")
MATERIALS = "materials"
CHUNKS = "material_chunks"
ACCESS = "material_access"
RECORDS = "record_submissions"
CHUNK_BYTES = 255 * 1024
"""Like GridFS: small enough for any server's document limit, few enough per file."""


DETAIL_FIELDS = (
    "title",
    "host_unit",
    "chair",
    "start",
    "end",
    "main_endpoint",
    "endpoints",
    "agenda",
    "document_number",
    "document_date",
)
"""A meeting's registered details: the same on the document and on its events."""


def meeting_fields(event: MeetingRequested | MeetingChanged) -> Document:
    """The stored form of the details an event carries (lists, ISO dates)."""
    fields = event.model_dump(mode="python", include={*DETAIL_FIELDS, "late_notice"})
    fields["endpoints"] = list(event.endpoints)
    fields["document_date"] = event.document_date.isoformat() if event.document_date else None
    return fields


class StaleWrite(Exception):
    """Someone changed the document since it was read (or it is gone)."""


def entry_id(tenant: str, code: str) -> str:
    return f"{tenant}:{code}"


class Entries:
    """One kind of directory entry (units or endpoints), keyed by tenant and code."""

    def __init__(self, collection: AsyncCollection[Document], topics: Topics) -> None:
        self._coll = collection
        self._topics = topics

    async def setup(self) -> None:
        await self._coll.create_index([("tenant", ASCENDING), ("code", ASCENDING)])

    async def count(self, tenant: str) -> int:
        return await self._coll.count_documents({"tenant": tenant})

    async def list(self, tenant: str, filters: Document) -> list[Document]:
        query = {"tenant": tenant, **filters}
        cursor = self._coll.find(query, hide_outbox()).sort("code", ASCENDING)
        return [doc async for doc in cursor]

    async def get(self, tenant: str, code: str) -> Document | None:
        return await self._coll.find_one({"_id": entry_id(tenant, code)}, hide_outbox())

    async def units_of(self, tenant: str, codes: Sequence[str]) -> set[str]:
        """The units owning these endpoints (one indexed lookup)."""
        ids = [entry_id(tenant, c) for c in dict.fromkeys(codes)]
        cursor = self._coll.find({"_id": {"$in": ids}}, {"unit": 1})
        return {doc["unit"] async for doc in cursor if doc.get("unit")}

    async def active(self, tenant: str, codes: Sequence[str]) -> dict[str, bool]:
        """code -> active, for the codes that exist (one indexed lookup)."""
        ids = [entry_id(tenant, c) for c in dict.fromkeys(codes)]
        cursor = self._coll.find({"_id": {"$in": ids}}, {"code": 1, "active": 1})
        return {doc["code"]: bool(doc.get("active", True)) async for doc in cursor}

    async def create(self, document: Document, event: Event) -> bool:
        """Insert a new entry with its snapshot event; False if the code is taken."""
        try:
            await insert_once(
                self._coll, document, str(event.event_id), events=[event], topics=self._topics
            )
        except DuplicateKeyError:
            return False
        return True

    async def replace(
        self, tenant: str, code: str, version: int, fields: Document, event: Event
    ) -> None:
        """Write the entry's new state if it is still at `version` (optimistic lock)."""
        update = merge_updates(
            {"$set": fields, "$inc": {"version": 1}}, outbox_update([event], self._topics)
        )
        await announce(self._coll, entry_id(tenant, code), [event])
        result = await self._coll.update_one(
            {"_id": entry_id(tenant, code), "version": version}, update
        )
        if result.matched_count != 1:
            raise StaleWrite(entry_id(tenant, code))


@dataclass(frozen=True)
class MeetingQuery:
    """Filters of `GET /meetings`, already narrowed to what the caller may see."""

    tenant: str
    host_unit: str | None = None
    endpoint: str | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    after: tuple[datetime, str] | None = None
    """Keyset paging: the (start, id) of the last meeting of the previous page."""

    def mongo(self) -> Document:
        query: Document = {"tenant": self.tenant}
        if self.host_unit:
            query["host_unit"] = self.host_unit
        if self.endpoint:
            query["endpoints"] = self.endpoint
        span: Document = {}
        if self.start_from:
            span["$gte"] = self.start_from
        if self.start_to:
            span["$lt"] = self.start_to
        if span:
            query["start"] = span
        if self.after:
            start, last_id = self.after
            query = {
                "$and": [
                    query,
                    {"$or": [{"start": {"$gt": start}}, {"start": start, "_id": {"$gt": last_id}}]},
                ]
            }
        return query


class RegistrationStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self._meetings = db[MEETINGS]
        self._timeline = db[TIMELINE]
        self._contacts = db[CONTACTS]
        self.units = Entries(db[UNITS], topics)
        self.endpoints = Entries(db[ENDPOINTS], topics)
        self._topics = topics

    async def setup(self) -> None:
        await self._meetings.create_index("idempotency_key", unique=True, sparse=True)
        await self._meetings.create_index([("tenant", ASCENDING), ("start", ASCENDING)])
        await self._meetings.create_index(
            [("tenant", ASCENDING), ("host_unit", ASCENDING), ("start", ASCENDING)]
        )
        await self._meetings.create_index(
            [("tenant", ASCENDING), ("endpoints", ASCENDING), ("start", ASCENDING)]
        )
        await self._timeline.create_index([("meeting_id", ASCENDING), ("at", ASCENDING)])
        await self.units.setup()
        await self.endpoints.setup()

    # ------------------------------------------------------------ directory

    async def contacts(self, tenant: str) -> Document | None:
        return await self._contacts.find_one({"_id": tenant}, hide_outbox())

    async def create_contacts(self, document: Document, event: Event) -> bool:
        try:
            await insert_once(
                self._contacts, document, str(event.event_id), events=[event], topics=self._topics
            )
        except DuplicateKeyError:
            return False
        return True

    async def replace_contacts(
        self, tenant: str, version: int, fields: Document, event: Event
    ) -> None:
        update = merge_updates(
            {"$set": fields, "$inc": {"version": 1}}, outbox_update([event], self._topics)
        )
        await announce(self._contacts, tenant, [event])
        result = await self._contacts.update_one({"_id": tenant, "version": version}, update)
        if result.matched_count != 1:
            raise StaleWrite(tenant)

    # ------------------------------------------------------------ meetings

    async def create_meeting(self, meeting: Document, event: Event) -> tuple[Document, bool]:
        """Store a meeting and its MeetingRequested in one write. With an idempotency key
        already used, the meeting stored the first time comes back instead (created False)."""
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
            return existing, False
        return await self.meeting(meeting["_id"]) or meeting, True

    async def adopt_meeting(self, meeting: Document, event: Event) -> None:
        """Record a meeting another system announced on the topic (no events of ours)."""
        await insert_once(self._meetings, meeting, str(event.event_id), topics=self._topics)

    async def apply_external(self, event: Event, fields: Document) -> None:
        """Apply another system's change to the meeting it owns, once per event."""
        await apply_once(
            self._meetings,
            getattr(event, "meeting_id", ""),
            str(event.event_id),
            {"$set": fields},
            topics=self._topics,
            extra_filter={"source": event.producer},
        )

    async def meeting(self, meeting_id: str) -> Document | None:
        return await self._meetings.find_one({"_id": meeting_id}, hide_outbox())

    async def update_meeting(
        self, meeting_id: str, revision: int, fields: Document, events: Sequence[Event]
    ) -> Document:
        """Write a change or cancellation if the meeting is still at `revision`."""
        update = merge_updates({"$set": fields}, outbox_update(events, self._topics))
        await announce(self._meetings, meeting_id, events)
        result = await self._meetings.update_one({"_id": meeting_id, "revision": revision}, update)
        if result.matched_count != 1:
            raise StaleWrite(meeting_id)
        return await self.meeting(meeting_id) or {}

    async def meetings(
        self, query: MeetingQuery, limit: int, *, newest_first: bool = False
    ) -> list[Document]:
        order = DESCENDING if newest_first else ASCENDING
        cursor = (
            self._meetings.find(query.mongo(), hide_outbox())
            .sort([("start", order), ("_id", order)])
            .limit(limit)
        )
        return [doc async for doc in cursor]

    # ------------------------------------------------------------ timeline

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

    async def audit(self, meeting_id: str, kind: str, at: datetime, summary: Document) -> None:
        """Put what someone did with the meeting's records (upload, download, access asked,
        granted, refused) on its timeline: an insert, never changed afterwards."""
        await self._timeline.insert_one(
            {
                "_id": f"audit-{uuid.uuid4().hex}",
                "meeting_id": meeting_id,
                "type": kind,
                "at": at,
                **summary,
            }
        )

    async def record_due(self, meeting_id: str) -> Document | None:
        """The ReportDue asking for this meeting's minutes, once scheduling sent it."""
        return await self._timeline.find_one({"meeting_id": meeting_id, "type": "ReportDue"})

    async def timeline(self, meeting_id: str) -> list[Document]:
        cursor = self._timeline.find({"meeting_id": meeting_id}).sort("at", ASCENDING)
        return [doc async for doc in cursor]

    async def decisions(self, meeting_ids: Sequence[str]) -> dict[str, list[Document]]:
        """The scheduling decisions on the timelines of many meetings, oldest first."""
        cursor = self._timeline.find(
            {"meeting_id": {"$in": list(meeting_ids)}, "type": {"$in": list(DECISIONS)}}
        ).sort("at", ASCENDING)
        found: dict[str, list[Document]] = {m: [] for m in meeting_ids}
        async for entry in cursor:
            found[entry["meeting_id"]].append(entry)
        return found


class CorruptMaterial(Exception):
    """A stored file's bytes no longer match its checksum (or chunks are missing)."""


class MaterialsStore:
    """Meeting materials and records (rule 8), insert-only: a file's chunks are inserted
    first and its description last, so a file is listed only once all its bytes are stored
    (an upload cut short leaves unreferenced chunks, never a broken file). Access requests
    and their one decision (`decision:<request id>`, a unique key) are inserts too."""

    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self._materials = db[MATERIALS]
        self._chunks = db[CHUNKS]
        self._access = db[ACCESS]
        self._records = db[RECORDS]
        self._topics = topics

    async def setup(self) -> None:
        await self._materials.create_index([("meeting_id", ASCENDING), ("uploaded_at", ASCENDING)])
        await self._chunks.create_index([("material_id", ASCENDING), ("n", ASCENDING)])
        await self._access.create_index([("meeting_id", ASCENDING), ("grantee", ASCENDING)])

    async def save(self, material: Document, data: bytes) -> Document:
        """Store the bytes in chunks, then the description with their sha256 and size."""
        pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]
        if pieces:
            await self._chunks.insert_many(
                [
                    {"_id": f"{material['_id']}:{n:06d}", "material_id": material["_id"], "n": n}
                    | {"data": piece}
                    for n, piece in enumerate(pieces)
                ]
            )
        document = {
            **material,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "chunks": len(pieces),
        }
        await self._materials.insert_one(document)
        return document

    async def list(self, meeting_id: str) -> list[Document]:
        cursor = self._materials.find({"meeting_id": meeting_id}).sort("uploaded_at", ASCENDING)
        return [doc async for doc in cursor]

    async def get(self, material_id: str) -> Document | None:
        return await self._materials.find_one({"_id": material_id})

    async def content(self, material: Document) -> bytes:
        """The file's bytes exactly as uploaded, checked against its size and sha256."""
        cursor = self._chunks.find({"material_id": material["_id"]}).sort("n", ASCENDING)
        data = b"".join([bytes(doc["data"]) async for doc in cursor])
        if len(data) != material["size"] or hashlib.sha256(data).hexdigest() != material["sha256"]:
            raise CorruptMaterial(material["_id"])
        return data

    async def has_minutes(self, meeting_id: str) -> bool:
        query = {"meeting_id": meeting_id, "kind": "minutes"}
        return bool(await self._materials.count_documents(query, limit=1))

    # ------------------------------------------------------------ access on request

    async def add_request(self, request: Document) -> None:
        await self._access.insert_one(request)

    async def request(self, request_id: str) -> Document | None:
        return await self._access.find_one({"_id": request_id, "kind": "request"})

    async def requests(self, meeting_id: str) -> list[Document]:
        cursor = self._access.find({"meeting_id": meeting_id}).sort("at", ASCENDING)
        return [doc async for doc in cursor]

    async def decide(self, decision: Document) -> bool:
        """Record the one decision on a request; False if it was decided already."""
        try:
            await self._access.insert_one(decision)
        except DuplicateKeyError:
            return False
        return True

    async def granted(self, meeting_id: str, grantee: str) -> bool:
        query = {"meeting_id": meeting_id, "grantee": grantee, "kind": "decision", "granted": True}
        return bool(await self._access.count_documents(query, limit=1))

    # ------------------------------------------------------------ the post-meeting record

    async def submit_record(self, report_id: str, event: Event) -> None:
        """Announce once that the minutes asked for by `report_id` are in (an insert keyed
        by the report id, whichever of upload and ReportDue comes second)."""
        try:
            await insert_once(
                self._records,
                {"_id": report_id, "meeting_id": getattr(event, "meeting_id", None)},
                str(event.event_id),
                events=[event],
                topics=self._topics,
            )
        except DuplicateKeyError:
            pass  # announced already
