"""Registration's collections: the directory (units, endpoints, contacts), meetings (each
with its outbox) and their timelines.

Writers are kept apart so FerretDB's read-then-replace updates never race: the HTTP API
writes directory entries and meetings (conditional on their `version` / `revision`); the
consumer only INSERTS timeline entries (keyed by event id) and meetings announced on the
topic by other systems. Inserts are atomic and idempotent on FerretDB and MongoDB alike.
Two HTTP writes of one document are told apart by an insert too (`claim_version`): on
FerretDB a conditional update is no compare-and-set, so both writers of one `version`
would match and the second would silently replace the first.

A meeting is identified by (tenant, meeting id), as scheduling does: meetings are keyed
`<tenant>|<meeting id>` and every timeline read filters by tenant. Other systems choose
their own meeting ids, so two provinces' e-office systems may well publish the same one;
keying (rather than dead-lettering the second) keeps both meetings, each province with its
own, and an event of one province can never reach the other's meeting or timeline. The
store speaks meeting ids to its callers: documents come back with `_id` = the meeting id.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, MeetingChanged, MeetingRequested, Topics
from hnth_kit import batch_reads
from hnth_kit.batch_writes import before_writing, insert_new_in_batch, insert_new_or
from hnth_kit.idempotency import UnknownDocument, apply_once, insert_once
from hnth_kit.mongo import Document, exists, insert_new, take_lease
from hnth_kit.outbox import announce, hide_outbox, merge_updates, outbox_update, with_outbox

MEETINGS = "meetings"
TIMELINE = "timeline"
UNITS = "units"
ENDPOINTS = "endpoints"
CONTACTS = "contacts"
GROUPS = "endpoint_groups"
DIRECTORY = (UNITS, ENDPOINTS, CONTACTS, GROUPS)
DECISIONS = ("SlotAssigned", "SlotRejected", "SlotReleased", "SlotHeld")
MATERIALS = "materials"
ROOM_RULES = "room_rules"
"""Each endpoint's room rules (nội quy phòng họp, rule 6): described like a material,
their bytes in the materials' chunks."""
CHUNKS = "material_chunks"
ACCESS = "material_access"
RECORDS = "record_submissions"
MIGRATIONS = "migrations"
WRITE_CLAIMS = "write_claims"
ANSWERS = "system_answers"
"""Registration's answers to integrating systems' requests, each staged with its reply."""
"""One insert per write of a directory entry or meeting: `<collection>/<id>@<version>`."""
WRITE_LEASE = timedelta(seconds=30)
"""How long a writer that claimed a version and died keeps others from writing it."""
PENDING_KEY = "_migrating_idempotency_key"
"""A re-keyed meeting's idempotency key, held aside until its original is gone."""
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
    "groups",
    "excluded",
    "agenda",
    "document_number",
    "document_date",
    "external_host",
    "priority",
    "record",
)
"""A meeting's registered details: the same on the document and on its events."""


def meeting_fields(event: MeetingRequested | MeetingChanged) -> Document:
    """The stored form of the details an event carries (lists, ISO dates)."""
    fields = event.model_dump(mode="python", include={*DETAIL_FIELDS, "late_notice"})
    fields["endpoints"] = list(event.endpoints)
    fields["groups"] = list(event.groups)
    fields["excluded"] = list(event.excluded)
    fields["document_date"] = event.document_date.isoformat() if event.document_date else None
    return fields


class MeetingTaken(Exception):
    """Another meeting took the key of one being adopted, after the batch read it."""


class StaleWrite(Exception):
    """Someone changed the document since it was read (or it is gone)."""


async def claim_version(collection: AsyncCollection[Document], doc_id: str, version: int) -> None:
    """Win THE write that moves `doc_id` on from `version`, or raise StaleWrite.

    FerretDB 1.x applies `update_one({"_id": x, "version": v}, ...)` as read, then replace:
    two writers that both read `v` both match, and the second replaces the first (both
    answered 200, one change lost, two events for one version). The claim is an insert
    keyed by the version, atomic on FerretDB and MongoDB alike: one writer per version.
    A writer that died between its claim and its write holds the version for WRITE_LEASE.
    """
    claims = collection.database[WRITE_CLAIMS]
    claim_id = f"{collection.name}/{doc_id}@{version}"
    if not await take_lease(claims, claim_id, uuid.uuid4().hex, datetime.now(UTC), WRITE_LEASE):
        raise StaleWrite(doc_id)


def entry_id(tenant: str, code: str) -> str:
    return f"{tenant}:{code}"


def meeting_key(tenant: str, meeting_id: str) -> str:
    """A meeting's `_id`: meeting ids are unique within a province only (see the module doc)."""
    return f"{tenant}|{meeting_id}"


def _keyed(meeting: Document) -> Document:
    """The stored form of a meeting whose `_id` is its meeting id."""
    return {
        **meeting,
        "_id": meeting_key(meeting["tenant"], meeting["_id"]),
        "meeting_id": meeting["_id"],
    }


def _shown(meeting: Document | None) -> Document | None:
    """A stored meeting as callers know it: `_id` is the meeting id again."""
    if meeting is None:
        return None
    meeting_id = meeting.pop("meeting_id", None)
    return {**meeting, "_id": meeting_id or meeting["_id"]}


class Entries:
    """One kind of directory entry (units or endpoints), keyed by tenant and code."""

    def __init__(self, collection: AsyncCollection[Document], topics: Topics) -> None:
        self._coll = collection
        self._topics = topics

    async def setup(self) -> None:
        await self._coll.create_index([("tenant", ASCENDING), ("code", ASCENDING)])

    async def count(self, tenant: str) -> int:
        return await self._coll.count_documents({"tenant": tenant})

    async def matching(self, filters: Document) -> list[Document]:
        """Entries of every province that match (a migration's scan)."""
        return [doc async for doc in self._coll.find(filters, hide_outbox())]

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
        await claim_version(self._coll, entry_id(tenant, code), version)
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
    endpoints: tuple[str, ...] = ()
    """Meetings at any of these endpoints (none: every endpoint)."""
    start_from: datetime | None = None
    start_to: datetime | None = None
    after: tuple[datetime, str] | None = None
    """Keyset paging: the (start, id) of the last meeting of the previous page."""
    taking_part: tuple[str, ...] = ()
    """With `host_unit`: the meetings held at any of these endpoints too (the unit's own:
    a commune takes part in the province's meetings at its endpoint)."""
    others_refused: bool = True
    """Whether the requests of units other than `host_unit` that were refused are listed
    (a clerk or a technician is never told of them: they are left out for them)."""

    def mongo(self) -> Document:
        query: Document = {"tenant": self.tenant}
        alternatives: list[list[Document]] = []
        if self.host_unit and self.taking_part:
            alternatives.append([{"host_unit": self.host_unit}, *_held_at(self.taking_part)])
        elif self.host_unit:
            query["host_unit"] = self.host_unit
        if self.endpoints:
            alternatives.append(_held_at(self.endpoints))
        if len(alternatives) == 1:
            query["$or"] = alternatives[0]
        elif alternatives:
            query["$and"] = [{"$or": each} for each in alternatives]
        span: Document = {}
        if self.start_from:
            span["$gte"] = self.start_from
        if self.start_to:
            span["$lt"] = self.start_to
        if span:
            query["start"] = span
        if self.after:
            # keys share the tenant's prefix, so they sort as the meeting ids do
            start, last_id = self.after
            last = meeting_key(self.tenant, last_id)
            query = {
                "$and": [
                    query,
                    {"$or": [{"start": {"$gt": start}}, {"start": start, "_id": {"$gt": last}}]},
                ]
            }
        return query


def endpoints_of(meeting: Document) -> list[str]:
    """Every endpoint a meeting is held at, in order: those it names, then those its groups
    reached when it was decided ("all communes")."""
    return list(dict.fromkeys([*meeting["endpoints"], *meeting.get("reached", ())]))


def _held_at(codes: Sequence[str]) -> list[Document]:
    """A meeting at any of these endpoints: those it names, or those its groups reached
    when it was decided."""
    wanted = codes[0] if len(codes) == 1 else {"$in": list(codes)}
    return [{"endpoints": wanted}, {"reached": wanted}]


class RegistrationStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self._meetings = db[MEETINGS]
        self._timeline = db[TIMELINE]
        self._audited = (db[MATERIALS], db[ACCESS])
        """Documents that carry their own timeline entry (`audit`), written with them."""
        self._contacts = db[CONTACTS]
        self.units = Entries(db[UNITS], topics)
        self.endpoints = Entries(db[ENDPOINTS], topics)
        self.groups = Entries(db[GROUPS], topics)
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
        await self._meetings.create_index(
            [("tenant", ASCENDING), ("reached", ASCENDING), ("start", ASCENDING)]
        )
        await self._meetings.create_index(
            [("tenant", ASCENDING), ("rehearsal_of", ASCENDING)], sparse=True
        )
        await self._timeline.create_index(
            [("tenant", ASCENDING), ("meeting_id", ASCENDING), ("at", ASCENDING)]
        )
        await self.units.setup()
        await self.endpoints.setup()
        await self.groups.setup()

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
        await claim_version(self._contacts, tenant, version)
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
                self._meetings,
                _keyed(meeting),
                str(event.event_id),
                events=[event],
                topics=self._topics,
            )
        except DuplicateKeyError:
            if meeting.get("idempotency_key") is None:
                raise  # not a retry: another meeting holds this id
            existing = await self._meetings.find_one(
                {"idempotency_key": meeting.get("idempotency_key")}, hide_outbox()
            )
            if existing is None:
                raise
            return _shown(existing) or {}, False
        return await self.meeting(meeting["tenant"], meeting["_id"]) or meeting, True

    async def prefetch_meetings(self, meetings: Sequence[tuple[str, str]]) -> None:
        """Read these (tenant, meeting id)s once for the consumer batch (`adopt_meeting`)."""
        await batch_reads.prefetch(self._meetings, [meeting_key(*m) for m in meetings])

    async def adopt_meeting(self, meeting: Document, event: Event) -> bool:
        """Record a meeting another system announced on the topic (no events of ours), once
        per event; False if the province has another meeting of that id. In a consumer
        batch, its one read answers and the new meetings are inserted together at its end
        (an insert each was a sixth of the platform's database commands flat out)."""
        marker = str(event.event_id)
        stored = {**with_outbox(_keyed(meeting), (), self._topics), "_applied": [marker]}
        found = await batch_reads.find_by_id(self._meetings, stored["_id"])
        if found is not None:
            return marker in found.get("_applied", ())
        await insert_new_or(self._meetings, [stored], self._adopted_meanwhile)
        return True

    async def _adopted_meanwhile(self, meeting: Document) -> None:
        """The key of a meeting to adopt was taken after the batch read it: by this very
        event (an earlier delivery) it is adopted; by anything else the raise hands the
        batch back, and its redelivery, reading the taken key, refuses the event."""
        taken = await self._meetings.find_one({"_id": meeting["_id"]}, {"_applied": 1})
        if taken is None or meeting["_applied"][0] not in taken.get("_applied", ()):
            raise MeetingTaken(meeting["_id"])

    async def apply_external(self, event: Event, fields: Document) -> bool:
        """Apply another system's change to the meeting it owns in the event's province,
        once per event; False if there is no such meeting (of that source)."""
        key = meeting_key(event.tenant, getattr(event, "meeting_id", ""))
        await before_writing(self._meetings, key)  # a meeting the batch adopted is in
        try:
            await apply_once(
                self._meetings,
                key,
                str(event.event_id),
                {"$set": fields},
                topics=self._topics,
                extra_filter={"source": event.producer, "tenant": event.tenant},
            )
        except UnknownDocument:
            return False
        return True

    async def meeting(self, tenant: str, meeting_id: str) -> Document | None:
        found = await self._meetings.find_one(
            {"_id": meeting_key(tenant, meeting_id)}, hide_outbox()
        )
        return _shown(found)

    async def rehearsals(self, tenant: str, meeting_id: str) -> list[Document]:
        """The rehearsals booked for a meeting, cancelled ones too, earliest first."""
        cursor = self._meetings.find(
            {"tenant": tenant, "rehearsal_of": meeting_id}, hide_outbox()
        ).sort("start", ASCENDING)
        return [m for found in await cursor.to_list() if (m := _shown(found)) is not None]

    async def meetings_by_id(self, tenant: str, meeting_ids: Sequence[str]) -> dict[str, Document]:
        """Many meetings of one province (one indexed lookup), by meeting id."""
        keys = [meeting_key(tenant, m) for m in dict.fromkeys(meeting_ids)]
        cursor = self._meetings.find({"_id": {"$in": keys}}, hide_outbox())
        return {m["_id"]: m async for doc in cursor if (m := _shown(doc))}

    async def update_meeting(
        self, tenant: str, meeting_id: str, revision: int, fields: Document, events: Sequence[Event]
    ) -> Document:
        """Write a change or cancellation if the meeting is still at `revision` and not
        cancelled. A cancellation leaves the revision as it is: the claim of `revision`
        is what keeps a change and a cancellation of the same revision from both winning."""
        key = meeting_key(tenant, meeting_id)
        update = merge_updates({"$set": fields}, outbox_update(events, self._topics))
        await claim_version(self._meetings, key, revision)
        await announce(self._meetings, key, events)
        result = await self._meetings.update_one(
            {"_id": key, "revision": revision, "cancelled": {"$ne": True}}, update
        )
        if result.matched_count != 1:
            raise StaleWrite(meeting_id)
        return await self.meeting(tenant, meeting_id) or {}

    async def decide_hold(
        self, tenant: str, meeting_id: str, revision: int, fields: Document, events: Sequence[Event]
    ) -> bool:
        """Record an operator's decision on the held `revision` with its event: the first
        of the revision wins (a claim keyed by it, as a change's); False when another was
        taken. A change or cancellation since is a StaleWrite."""
        key = meeting_key(tenant, meeting_id)
        try:
            await claim_version(self._meetings, f"{key}:hold", revision)
        except StaleWrite:
            return False
        update = merge_updates({"$set": fields}, outbox_update(events, self._topics))
        await announce(self._meetings, key, events)
        result = await self._meetings.update_one(
            {"_id": key, "revision": revision, "cancelled": {"$ne": True}}, update
        )
        if result.matched_count != 1:
            raise StaleWrite(meeting_id)
        return True

    async def meetings(
        self, query: MeetingQuery, limit: int, *, newest_first: bool = False
    ) -> list[Document]:
        order = DESCENDING if newest_first else ASCENDING
        cursor = (
            self._meetings.find(query.mongo(), hide_outbox())
            .sort([("start", order), ("_id", order)])
            .limit(limit)
        )
        return [m async for doc in cursor if (m := _shown(doc))]

    # ------------------------------------------------------------ timeline

    async def set_reached(
        self, tenant: str, meeting_id: str, revision: int, endpoints: Sequence[str]
    ) -> None:
        """Every endpoint the meeting's decision of `revision` reached (its groups expanded),
        so a technician finds it; an older revision's decision never overwrites a newer one's
        (a redelivery sets the same values again)."""
        newer_or_none = [
            {"reached_revision": {"$exists": False}},
            {"reached_revision": {"$lte": revision}},
        ]
        key = meeting_key(tenant, meeting_id)
        await before_writing(self._meetings, key)  # a meeting the batch adopted is in
        await self._meetings.update_one(
            {"_id": key, "$or": newer_or_none},
            {"$set": {"reached": list(endpoints), "reached_revision": revision}},
        )

    async def add_to_timeline(self, event: Event, meeting_id: str, summary: dict[str, Any]) -> None:
        """Put an event on the timeline of its province's meeting (an insert keyed by the
        event id: a redelivery changes nothing), with the rest of the consumer batch's."""
        entry = timeline_entry(
            str(event.event_id), event.tenant, meeting_id, event.type, event.occurred_at, summary
        )
        await insert_new_in_batch(self._timeline, [entry])

    async def audit(
        self, tenant: str, meeting_id: str, kind: str, at: datetime, summary: Document
    ) -> None:
        """Put a download on the meeting's timeline (who, what, when): an insert, never
        changed afterwards. Uploads, requests and decisions carry their entry themselves."""
        entry_id = f"audit-{uuid.uuid4().hex}"
        await self._timeline.insert_one(
            timeline_entry(entry_id, tenant, meeting_id, kind, at, summary)
        )

    async def record_due(self, tenant: str, meeting_id: str) -> Document | None:
        """The ReportDue asking for this meeting's minutes, once scheduling sent it."""
        query = {"tenant": tenant, "meeting_id": meeting_id, "type": "ReportDue"}
        return await self._timeline.find_one(query)

    async def timeline(self, tenant: str, meeting_id: str) -> list[Document]:
        """The meeting's timeline: the events about it, and what people did with its
        records (the entries its materials, access requests and decisions carry)."""
        query = {"tenant": tenant, "meeting_id": meeting_id}
        entries = [doc async for doc in self._timeline.find(query)]
        for collection in self._audited:
            audited = {**query, "audit": {"$exists": True}}
            entries += [doc["audit"] async for doc in collection.find(audited, {"audit": 1})]
        entries.sort(key=lambda e: (e["at"], e.pop("written_ns", 0)))
        return entries

    async def decisions(self, tenant: str, meeting_ids: Sequence[str]) -> dict[str, list[Document]]:
        """The scheduling decisions on the timelines of many meetings, oldest first."""
        query = {
            "tenant": tenant,
            "meeting_id": {"$in": list(meeting_ids)},
            "type": {"$in": list(DECISIONS)},
        }
        cursor = self._timeline.find(query).sort("at", ASCENDING)
        found: dict[str, list[Document]] = {m: [] for m in meeting_ids}
        async for entry in cursor:
            found[entry["meeting_id"]].append(entry)
        return found


def timeline_entry(
    entry_id: str, tenant: str, meeting_id: str, kind: str, at: datetime, summary: Document
) -> Document:
    """One line of a meeting's timeline: what happened (`type`), when, and its details.
    `written_ns` orders entries of the same instant as they were written (an upload before
    its downloads, a request before its decision)."""
    return {
        "_id": entry_id,
        "tenant": tenant,
        "meeting_id": meeting_id,
        "type": kind,
        "at": at,
        "written_ns": time.time_ns(),
        **summary,
    }


class SystemAnswers:
    """The replies to systems' requests (`usecases.inbound`): one insert per request
    message, holding its reply in its outbox, which the relay publishes to the system's
    own replies topic."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        topics: Topics,
        ensure_topics: Callable[[list[str]], Awaitable[None]],
    ) -> None:
        self._answers, self._topics, self._ensure_topics = db[ANSWERS], topics, ensure_topics
        self._ready: set[str] = set()

    async def answer(self, key: str, marker: str, reply: Event) -> None:
        """Stage `reply` under `key` once: a redelivered request stages nothing more. Its
        topic is made first when this process has not seen it yet (`hnth system create`
        makes it; a system registered otherwise has none): a reply to a missing topic would
        hold the relay back."""
        topic = self._topics.of(reply)
        if topic not in self._ready:
            await self._ensure_topics([topic])
            self._ready.add(topic)
        document = {"_id": key, "tenant": reply.tenant, "type": reply.type}
        await insert_once(self._answers, document, marker, events=[reply], topics=self._topics)


class CorruptMaterial(Exception):
    """A stored file's bytes no longer match its checksum (or chunks are missing)."""


@dataclass(frozen=True)
class MaterialQuery:
    """Filters of `GET /materials` (one province), paged by (uploaded_at, id)."""

    tenant: str
    meeting_id: str | None = None
    kind: str | None = None
    uploaded_from: datetime | None = None
    uploaded_to: datetime | None = None
    after: tuple[datetime, str] | None = None

    def mongo(self) -> Document:
        query: Document = {"tenant": self.tenant}
        if self.meeting_id:
            query["meeting_id"] = self.meeting_id
        if self.kind:
            query["kind"] = self.kind
        span: Document = {}
        if self.uploaded_from:
            span["$gte"] = self.uploaded_from
        if self.uploaded_to:
            span["$lt"] = self.uploaded_to
        if span:
            query["uploaded_at"] = span
        if self.after:
            at, last_id = self.after
            later = {
                "$or": [{"uploaded_at": {"$gt": at}}, {"uploaded_at": at, "_id": {"$gt": last_id}}]
            }
            query = {"$and": [query, later]}
        return query


def describe(data: bytes) -> Document:
    """What a material's description says of its bytes: size, sha256, number of chunks."""
    return {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "chunks": -(-len(data) // CHUNK_BYTES),
    }


def _chunk_ids(material: Document) -> list[str]:
    # The checksum is in the key: a retry with other bytes (same Idempotency-Key) can never
    # mix its chunks with the first attempt's, even if that one was cut short.
    return [
        f"{material['_id']}:{material['sha256'][:16]}:{n:06d}" for n in range(material["chunks"])
    ]


class MaterialsStore:
    """Meeting materials and records (rule 8), insert-only: a file's chunks are inserted
    first and its description last, so a file is listed only once all its bytes are stored
    (an upload cut short leaves unreferenced chunks, never a broken file).

    Each state document carries what must be durable with it in the SAME insert: a
    material its timeline entry (`audit`) and, for minutes already asked for, the
    ReportSubmitted in its outbox; an access request and its one decision
    (`decision:<request id>`, a unique key) their timeline entries."""

    def __init__(
        self, db: AsyncDatabase[Document], topics: Topics, descriptions: str = MATERIALS
    ) -> None:
        """`descriptions`: the collection describing the files (`ROOM_RULES`: the same
        insert-only storage for the endpoints' room rules)."""
        self._materials = db[descriptions]
        self._chunks = db[CHUNKS]
        self._access = db[ACCESS]
        self._records = db[RECORDS]
        self._topics = topics

    async def setup(self) -> None:
        await self._materials.create_index(
            [("tenant", ASCENDING), ("meeting_id", ASCENDING), ("uploaded_at", ASCENDING)]
        )
        await self._materials.create_index([("tenant", ASCENDING), ("uploaded_at", ASCENDING)])
        await self._access.create_index(
            [("tenant", ASCENDING), ("meeting_id", ASCENDING), ("grantee", ASCENDING)]
        )

    async def save(
        self, material: Document, data: bytes, events: Sequence[Event] = ()
    ) -> tuple[Document, bool]:
        """Store the bytes in chunks, then the description (`material`, with `describe`'s
        fields and its `audit` entry) and `events` in one insert. When a material with that
        id exists already (a retried upload), it comes back unchanged (created False)."""
        existing = await self.get(material["tenant"], material["_id"])
        if existing is not None:
            return existing, False
        pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]
        await insert_new(
            self._chunks,
            [
                {"_id": chunk_id, "tenant": material["tenant"], "material_id": material["_id"]}
                | {"n": n, "data": piece}
                for n, (chunk_id, piece) in enumerate(
                    zip(_chunk_ids(material), pieces, strict=True)
                )
            ],
        )
        await announce(self._materials, material["_id"], events)
        try:
            await self._materials.insert_one(with_outbox(material, events, self._topics))
        except DuplicateKeyError:
            return await self.get(material["tenant"], material["_id"]) or material, False
        return material, True

    async def of_meeting(self, tenant: str, meeting_id: str) -> list[Document]:
        query = {"tenant": tenant, "meeting_id": meeting_id}
        cursor = self._materials.find(query, hide_outbox()).sort("uploaded_at", ASCENDING)
        return [doc async for doc in cursor]

    async def find(self, query: MaterialQuery, limit: int) -> list[Document]:
        cursor = (
            self._materials.find(query.mongo(), hide_outbox())
            .sort([("uploaded_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def latest(self, tenant: str, endpoint: str) -> Document | None:
        """The newest version attached to an endpoint (its room rules)."""
        query = {"tenant": tenant, "endpoint": endpoint}
        cursor = self._materials.find(query, hide_outbox()).sort("version", DESCENDING)
        return next(iter([doc async for doc in cursor.limit(1)]), None)

    async def get(self, tenant: str, material_id: str) -> Document | None:
        found = await self._materials.find_one({"_id": material_id}, hide_outbox())
        return found if found is not None and found.get("tenant") == tenant else None

    async def content(self, material: Document) -> bytes:
        """The file's bytes exactly as uploaded, checked against its size and sha256."""
        ids = _chunk_ids(material)
        found = {
            doc["_id"]: bytes(doc["data"]) async for doc in self._chunks.find({"_id": {"$in": ids}})
        }
        data = b"".join(found.get(i, b"") for i in ids)
        if len(found) < len(ids):  # chunks written before they were keyed by checksum
            cursor = self._chunks.find({"material_id": material["_id"]}).sort("n", ASCENDING)
            data = b"".join([bytes(doc["data"]) async for doc in cursor])
        if len(data) != material["size"] or hashlib.sha256(data).hexdigest() != material["sha256"]:
            raise CorruptMaterial(material["_id"])
        return data

    async def minutes(self, tenant: str, meeting_id: str) -> list[Document]:
        """The meeting's minutes, each with the reports its upload announced (`reports`)."""
        query = {"tenant": tenant, "meeting_id": meeting_id, "kind": "minutes"}
        return [doc async for doc in self._materials.find(query, {"reports": 1})]

    # ------------------------------------------------------------ access on request

    async def add_request(self, request: Document) -> None:
        await self._access.insert_one(request)

    async def request(self, tenant: str, request_id: str) -> Document | None:
        return await self._access.find_one({"_id": request_id, "tenant": tenant, "kind": "request"})

    async def requests(self, tenant: str, meeting_id: str) -> list[Document]:
        query = {"tenant": tenant, "meeting_id": meeting_id}
        cursor = self._access.find(query, {"audit": 0}).sort("at", ASCENDING)
        return [doc async for doc in cursor]

    async def decide(self, decision: Document) -> bool:
        """Record the one decision on a request; False if it was decided already."""
        try:
            await self._access.insert_one(decision)
        except DuplicateKeyError:
            return False
        return True

    async def granted(self, tenant: str, grantee: str, meeting_id: str | None = None) -> set[str]:
        """The meetings whose materials `grantee` was granted (of one meeting, if given)."""
        query: Document = {
            "tenant": tenant,
            "grantee": grantee,
            "kind": "decision",
            "granted": True,
        }
        if meeting_id is not None:
            query["meeting_id"] = meeting_id
        return {doc["meeting_id"] async for doc in self._access.find(query, {"meeting_id": 1})}

    # ------------------------------------------------------------ the post-meeting record

    async def submit_record(self, tenant: str, report_id: str, event: Event) -> None:
        """Announce that the minutes asked for by `report_id` are in (an insert keyed by the
        report id, with the event in its outbox)."""
        try:
            await insert_once(
                self._records,
                {
                    "_id": report_id,
                    "tenant": tenant,
                    "meeting_id": getattr(event, "meeting_id", None),
                },
                str(event.event_id),
                events=[event],
                topics=self._topics,
            )
        except DuplicateKeyError:
            pass  # announced already


class Upgrades:
    """What `migrations` reads and writes: documents of earlier layouts and the steps
    done. `seed_earlier_layout` puts such documents in, for tests and benches."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._meetings = db[MEETINGS]
        self._done = db[MIGRATIONS]

    async def done(self, step: str) -> bool:
        return await exists(self._done, {"_id": step})

    async def mark_done(self, step: str) -> None:
        await insert_new(self._done, [{"_id": step}])

    def unkeyed_meetings(self) -> AsyncIterator[Document]:
        """Meetings still keyed by their meeting id alone."""
        return aiter(self._meetings.find({"meeting_id": {"$exists": False}}))

    def held_keys(self) -> AsyncIterator[Document]:
        """Re-keyed meetings still holding their idempotency key aside (`PENDING_KEY`)."""
        return aiter(self._meetings.find({PENDING_KEY: {"$exists": True}}))

    async def insert_meeting(self, meeting: Document) -> None:
        """Insert a stored meeting as it is (an insert of the same `_id` again is a no-op)."""
        await insert_new(self._meetings, [meeting])

    async def delete_meeting(self, stored_id: str) -> None:
        await self._meetings.delete_one({"_id": stored_id})

    async def take_up_key(self, stored_id: str, idempotency_key: str) -> None:
        await self._meetings.update_one(
            {"_id": stored_id},
            {"$set": {"idempotency_key": idempotency_key}, "$unset": {PENDING_KEY: ""}},
        )

    async def meeting_tenants(self) -> dict[str, str]:
        """meeting id -> its province, of every (re-keyed) meeting."""
        cursor = self._meetings.find({}, {"meeting_id": 1, "tenant": 1})
        return {m["meeting_id"]: m["tenant"] async for m in cursor}

    async def material_tenants(self) -> dict[str, str]:
        """material id -> its province."""
        return {m["_id"]: m["tenant"] async for m in self._db[MATERIALS].find({}, {"tenant": 1})}

    async def owners_lacking_tenant(self, collection: str, owner: str) -> set[Any]:
        """The owners (`owner` field: meeting or material id) of documents without `tenant`."""
        cursor = self._db[collection].find({"tenant": {"$exists": False}}, {owner: 1})
        return {doc.get(owner) async for doc in cursor}

    async def set_tenant(self, collection: str, owner: str, owner_id: Any, tenant: str) -> None:
        """Name the province on an owner's documents that lack it."""
        await self._db[collection].update_many(
            {owner: owner_id, "tenant": {"$exists": False}}, {"$set": {"tenant": tenant}}
        )

    async def seed_earlier_layout(
        self,
        *,
        meetings: Sequence[Document] = (),
        timeline: Sequence[Document] = (),
        materials: Sequence[Document] = (),
        chunks: Sequence[Document] = (),
    ) -> None:
        """Store documents as an earlier version wrote them (tests, benches)."""
        for name, documents in (
            (MEETINGS, meetings),
            (TIMELINE, timeline),
            (MATERIALS, materials),
            (CHUNKS, chunks),
        ):
            if documents:
                await self._db[name].insert_many(list(documents))
