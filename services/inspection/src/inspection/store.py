"""Inspection's collections and queries.

- `checklists`: one per (meeting, endpoint), written only by the meeting's slot and
  cancellation events.
- `check_results`: the checklists' append-only history. Every result is an INSERT with
  id `<checklist>#<seq>` and a unique `marker` (the submission or timer that caused
  it), carrying its CheckCompleted in its outbox: two writers racing for the same
  checklist (a submission and the deadline timer, two replicas) cannot both win a
  sequence number, and the loser re-reads and decides again.
- `feedback`: the quality ratings after a meeting (rule 9), one per endpoint per meeting
  and one from the host unit, under a deterministic id (a change replaces it).
- `incidents`, `inspections`, `annual_reports`, the directory (`endpoints`, `units`),
  `cancellations` (insert-once markers) and `provincial_reports` (compiled snapshots).
- `closings`: one insert per task handed in or incident resolved, taken before the
  update that closes it. FerretDB applies `update_one({"_id": x, "state": "open"}, ...)`
  as read-then-replace, no compare-and-set: two people closing the same one at once
  would both match, both be told it worked, and the second would replace the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import CheckSubmitted, Event, Topics
from hnth_kit import batch_reads
from hnth_kit.batch_writes import before_writing, insert_new_in_batch, insert_new_or, settle
from hnth_kit.consumer import RawMessage
from hnth_kit.idempotency import apply_once, insert_once
from hnth_kit.mongo import Document, exists, insert_new, take_lease
from hnth_kit.outbox import announce, hide_outbox, with_outbox
from inspection.domain.checklists import checklist_id, meeting_key, result_id
from inspection.ports import Decide

CHECKLISTS = "checklists"
RESULTS = "check_results"
INCIDENTS = "incidents"
INSPECTIONS = "inspections"
ANNUAL = "annual_reports"
FEEDBACK = "feedback"
PARKED = "parked_checks"
NOTICE_FACTS = "notice_facts"
"""Notification's facts about written notices (delivered, acknowledged), one row each."""
ACK_CLOCK_SKEW = timedelta(days=1)
"""How much earlier than its notice's delivery an acknowledgement may be stamped (two
replicas' clocks): its rows are read from that far before the period."""
CLOSINGS = "closings"
CLOSING_LEASE = timedelta(seconds=30)
"""How long a closer that claimed a task or incident and died keeps others from closing it."""
OUTBOX_COLLECTIONS = (RESULTS, INSPECTIONS, ANNUAL)
LAYOUT = "layout"
KEYED_BY_PROVINCE = "meetings_keyed_by_province"
"""The marker that no meeting here is keyed by its id alone (every one by province)."""


def parked_submission(
    parked_id: str, event: CheckSubmitted, raw: RawMessage, now: datetime
) -> Document:
    """A probe's result kept until its meeting's checklist opens: the message as it came,
    so a give-up dead-letters exactly what was delivered."""
    return {
        "_id": parked_id,
        "tenant": event.tenant,
        "meeting_id": event.meeting_id,
        "endpoint": event.endpoint,
        "parked_at": now,
        "topic": raw.topic,
        "partition": raw.partition,
        "offset": raw.offset,
        "key": raw.key,
        "value": raw.value,
        "headers": [[k, v] for k, v in raw.headers],
    }


def parked_message(parked: Mapping[str, Any]) -> RawMessage:
    return RawMessage(
        topic=parked["topic"],
        partition=parked["partition"],
        offset=parked["offset"],
        key=parked["key"],
        value=bytes(parked["value"]),
        headers=tuple((str(k), bytes(v)) for k, v in parked["headers"]),
    )


def _parked_key(parked: Document) -> str:
    return f"{parked['tenant']}:{parked['meeting_id']}"


class InspectionStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self.db = db
        self._topics = topics
        self._checklists = db[CHECKLISTS]
        self._results = db[RESULTS]
        self._incidents = db[INCIDENTS]
        self._inspections = db[INSPECTIONS]
        self._annual = db[ANNUAL]
        self._endpoints = db["endpoints"]
        self._units = db["units"]
        self._cancellations = db["cancellations"]
        self._meetings = db["meetings"]
        self._reports = db["provincial_reports"]
        self._feedback = db[FEEDBACK]
        self._parked = db[PARKED]
        self._notice_facts = db[NOTICE_FACTS]
        self.legacy_meetings = False
        """Meetings stored keyed by their id alone (before `meeting_key`) may be here."""

    async def setup(self) -> None:
        await self._find_legacy_meetings()
        await self._checklists.create_index([("tenant", ASCENDING), ("meeting_start", ASCENDING)])
        await self._results.create_index([("marker", ASCENDING)], unique=True, name="marker")
        await self._results.create_index([("checklist_id", ASCENDING)])
        await self._incidents.create_index([("tenant", ASCENDING), ("endpoint", ASCENDING)])
        await self._feedback.create_index([("tenant", ASCENDING), ("meeting_start", ASCENDING)])
        await self._feedback.create_index([("meeting_id", ASCENDING)])
        await self._parked.create_index([("tenant", ASCENDING), ("meeting_id", ASCENDING)])
        await self._notice_facts.create_index([("at", ASCENDING)])
        for tasks in (self._inspections, self._annual):
            await tasks.create_index([("tenant", ASCENDING), ("endpoint", ASCENDING)])

    async def _find_legacy_meetings(self) -> None:
        """Whether meetings keyed by their id alone are still here (read as they are, no
        move); once none are, a marker saves the scan at every later start."""
        layout = self.db[LAYOUT]
        if await layout.find_one({"_id": KEYED_BY_PROVINCE}) is not None:
            return
        legacy = await self._meetings.find_one({"meeting_id": {"$exists": False}}, {"_id": 1})
        self.legacy_meetings = legacy is not None
        if not self.legacy_meetings:
            with contextlib.suppress(DuplicateKeyError):  # another replica marked it
                await layout.insert_one({"_id": KEYED_BY_PROVINCE})

    # ------------------------------------------------------------ checklists

    async def meeting(self, tenant: str, meeting_id: str) -> Document | None:
        """The province's meeting: under its key, or (stored before meetings were keyed by
        province, `legacy_meetings`) under its id alone when that one is the province's."""
        found = await batch_reads.find_by_id(self._meetings, meeting_key(tenant, meeting_id))
        if found is None and self.legacy_meetings:
            old = await batch_reads.find_by_id(self._meetings, meeting_id)
            found = old if old is not None and old["tenant"] == tenant else None
        return found

    async def prefetch_meetings(self, keys: Iterable[tuple[str, str]]) -> None:
        """Read these meetings, their cancellations and the submissions parked for them
        (tenant, meeting id) for the rest of the consumer batch: three queries instead of
        three a message."""
        keys = list(keys)
        wanted = [meeting_key(tenant, meeting_id) for tenant, meeting_id in keys]
        if self.legacy_meetings:
            wanted += [meeting_id for _, meeting_id in keys]
        await batch_reads.prefetch(self._meetings, wanted)
        ids = [f"{tenant}:{meeting_id}" for tenant, meeting_id in keys]
        await batch_reads.prefetch(self._cancellations, ids)
        query = {
            "tenant": {"$in": sorted({tenant for tenant, _ in keys})},
            "meeting_id": {"$in": [meeting_id for _, meeting_id in keys]},
        }
        await batch_reads.prefetch_grouped(self._parked, query, ids, _parked_key)

    async def save_meeting(self, meeting: Document, new: bool) -> None:
        """Keep the meeting; `new`: not seen before, so an insert (on FerretDB half the cost
        of an upsert, which reads first; in a consumer batch, one for the batch), a replace
        when it was there after all."""
        if new:
            await insert_new_or(self._meetings, [meeting], self._replace_meeting)
        else:
            await before_writing(self._meetings, meeting["_id"])
            await self._replace_meeting(meeting)

    async def _replace_meeting(self, meeting: Document) -> None:
        await self._meetings.replace_one({"_id": meeting["_id"]}, meeting, upsert=True)

    async def meeting_checklists(self, tenant: str, meeting_id: str) -> list[Document]:
        meeting = await self.meeting(tenant, meeting_id)
        return await self.checklists_of(meeting) if meeting else []

    async def checklists_of(self, meeting: Document) -> list[Document]:
        """The meeting's checklists, found by id (FerretDB only pushes `_id` lookups down)."""
        ids = [checklist_id(meeting["_id"], e) for e in meeting["endpoints"]]
        found = await asyncio.gather(*(self.checklist(i) for i in ids))
        return sorted((c for c in found if c), key=lambda c: str(c["endpoint"]))

    async def meeting_checklist(
        self, tenant: str, meeting_id: str, endpoint: str
    ) -> Document | None:
        meeting = await self.meeting(tenant, meeting_id)
        return await self.checklist(checklist_id(meeting["_id"], endpoint)) if meeting else None

    async def checklist(self, checklist_id: str) -> Document | None:
        await settle(self._checklists)
        return await self._checklists.find_one({"_id": checklist_id})

    async def insert_checklists(self, checklists: list[Document]) -> None:
        """Insert new checklists (in a consumer batch, with the batch's others at its end);
        those already there (a redelivery) stay as they are."""
        await insert_new_in_batch(self._checklists, checklists)

    async def replace_checklist(self, checklist: Document) -> None:
        await settle(self._checklists)
        await self._checklists.replace_one({"_id": checklist["_id"]}, checklist)

    async def close_checklists(self, ids: Sequence[str], reason: str) -> None:
        if ids:
            await settle(self._checklists)
            await self._checklists.update_many(
                {"_id": {"$in": list(ids)}, "closed": False},
                {"$set": {"closed": True, "closed_reason": reason}},
            )

    async def mark_cancelled(self, tenant: str, meeting_id: str) -> None:
        batch_reads.forget(self._cancellations, f"{tenant}:{meeting_id}")
        try:
            await self._cancellations.insert_one({"_id": f"{tenant}:{meeting_id}"})
        except DuplicateKeyError:
            pass

    async def is_cancelled(self, tenant: str, meeting_id: str) -> bool:
        key = f"{tenant}:{meeting_id}"
        return await batch_reads.find_by_id(self._cancellations, key) is not None

    # ------------------------------------------------------------ results

    async def results_of(self, checklist_id: str) -> list[Document]:
        """A checklist's history, read entry by entry along its sequence of ids."""
        results: list[Document] = []
        while entry := await self._results.find_one(
            {"_id": result_id(checklist_id, len(results) + 1)}, hide_outbox()
        ):
            results.append(entry)
        return results

    async def append_result(
        self, checklist: Document, marker: str, decide: Decide
    ) -> Document | None:
        """Append the result `decide` chooses, once per `marker`; None if nothing was added
        (already applied, or nothing to do). A lost race for the next sequence number
        is decided again on the fresh checklist and history.

        The checklist is read again right before each decision, so a cancellation that
        landed since the caller looked is seen and `decide` refuses. What remains: a
        cancellation written between that read and the insert (no transactions on
        FerretDB) can still be followed by one CheckCompleted; the checklist stays
        closed, its board says so, and the report leaves closed checklists out."""
        checklist_id = checklist["_id"]
        while True:
            checklist = await self.checklist(checklist_id) or checklist
            results = await self.results_of(checklist_id)
            if any(r["marker"] == marker for r in results):
                return None
            decided = decide(checklist, results)
            if decided is None:
                return None
            entry, events = decided
            await announce(self._results, entry["_id"], events)
            try:
                await self._results.insert_one(with_outbox(entry, events, self._topics))
                return entry
            except DuplicateKeyError:
                continue  # another writer took this sequence number (or this marker)

    # ------------------------------------------------------------ parked submissions

    async def park(self, parked: Document) -> None:
        """Keep a submission for a meeting not known yet (a redelivery keeps the first)."""
        batch_reads.forget(self._parked, _parked_key(parked))
        await insert_new(self._parked, [parked])

    async def parked_for(self, tenant: str, meeting_id: str) -> list[Document]:
        """Submissions waiting for this meeting, oldest id first. Not an `_id` lookup
        (FerretDB scans), but the collection holds only what waits, for minutes: it stays
        small. In a consumer batch, as its start read them: one parked meanwhile by
        another replica is applied by its own re-check or its timer (`Inspection.park`)."""
        key = f"{tenant}:{meeting_id}"
        query = {"tenant": tenant, "meeting_id": meeting_id}
        found = await batch_reads.find_grouped(self._parked, key, query)
        return sorted(found, key=lambda d: str(d["_id"]))

    async def parked_one(self, parked_id: str) -> Document | None:
        return await self._parked.find_one({"_id": parked_id})

    async def unpark(self, parked_id: str) -> None:
        await self._parked.delete_one({"_id": parked_id})

    # ------------------------------------------------------------ tasks and incidents

    async def open_task(self, collection: str, task: Document, marker: str) -> None:
        try:
            await insert_once(self.db[collection], task, marker, topics=self._topics)
        except DuplicateKeyError:
            pass  # the same ReportDue id re-announced (e.g. a reminder): the task stands

    async def complete_task(
        self, collection: str, task_id: str, marker: str, changes: Document, events: Sequence[Event]
    ) -> bool:
        """Record a task's result once, only while it is open; False if it was not open
        (or another hand-in of it is being written)."""
        if not await self._claim_closing(f"{collection}/{task_id}"):
            return False
        return await self._change_task(
            collection, task_id, marker, changes, events, {"state": "open"}
        )

    async def update_task(
        self,
        collection: str,
        task_id: str,
        changes: Document,
        events: Sequence[Event],
        expected: Document,
    ) -> bool:
        """Change a task (with its events) only while it still holds `expected`; False when
        it changed meanwhile."""
        marker = f"change:{uuid.uuid4().hex}"
        return await self._change_task(collection, task_id, marker, changes, events, expected)

    async def _change_task(
        self,
        collection: str,
        task_id: str,
        marker: str,
        changes: Document,
        events: Sequence[Event],
        expected: Document,
    ) -> bool:
        try:
            return await apply_once(
                self.db[collection],
                task_id,
                marker,
                {"$set": changes},
                events=events,
                topics=self._topics,
                extra_filter=expected,
            )
        except LookupError:
            return False

    async def _claim_closing(self, what: str) -> bool:
        """Whether this writer is THE one to close `what` (see `closings` above)."""
        owner, now = uuid.uuid4().hex, datetime.now(UTC)
        return await take_lease(self.db[CLOSINGS], what, owner, now, CLOSING_LEASE)

    async def _find(
        self, collection: str, query: Document, sort: str = "_id", limit: int = 0
    ) -> list[Document]:
        await settle(self.db[collection])
        cursor = self.db[collection].find(query, hide_outbox()).sort(sort, ASCENDING)
        if limit:
            cursor = cursor.limit(limit)
        return [doc async for doc in cursor]

    async def _get(self, collection: str, doc_id: str, tenant: str) -> Document | None:
        await settle(self.db[collection])
        return await self.db[collection].find_one({"_id": doc_id, "tenant": tenant}, hide_outbox())

    async def task(self, collection: str, tenant: str, task_id: str) -> Document | None:
        return await self._get(collection, task_id, tenant)

    async def tasks(
        self, collection: str, tenant: str, sort: str, **filters: str | None
    ) -> list[Document]:
        """The province's tasks, with the filters that were given."""
        query = {"tenant": tenant, **{k: v for k, v in filters.items() if v}}
        return await self._find(collection, query, sort=sort)

    async def insert_incident(self, incident: Document) -> None:
        await self._incidents.insert_one(dict(incident))

    async def incident(self, tenant: str, incident_id: str) -> Document | None:
        return await self._get(INCIDENTS, incident_id, tenant)

    async def incidents(
        self, tenant: str, endpoint: str | None, state: str | None
    ) -> list[Document]:
        given = {"endpoint": endpoint, "state": state}
        query = {"tenant": tenant, **{k: v for k, v in given.items() if v}}
        return await self._find(INCIDENTS, query, sort="opened_at")

    async def resolve_incident(self, incident_id: str, changes: Document) -> bool:
        """Resolve an open incident; False if it was not open (or is being resolved)."""
        if not await self._claim_closing(f"{INCIDENTS}/{incident_id}"):
            return False
        done = await self._incidents.update_one(
            {"_id": incident_id, "state": "open"}, {"$set": changes}
        )
        return done.matched_count > 0

    async def endpoint_known(self, tenant: str, endpoint: str, meeting_id: str | None) -> bool:
        """In the directory or on a checklist (of that meeting, when one is named)."""
        await settle(self._checklists)
        if meeting_id:
            return await self.meeting_checklist(tenant, meeting_id, endpoint) is not None
        if await exists(self._endpoints, {"_id": f"{tenant}:{endpoint}"}):
            return True
        return await exists(self._checklists, {"tenant": tenant, "endpoint": endpoint})

    async def open_incidents(self, tenant: str, endpoints: Sequence[str]) -> list[Document]:
        return await self._find(
            INCIDENTS, {"tenant": tenant, "endpoint": {"$in": list(endpoints)}, "state": "open"}
        )

    # ------------------------------------------------------------ quality feedback

    async def save_feedback(self, entry: Document) -> bool:
        """Store an endpoint's (or the host's) feedback under its one id; a later one
        replaces it. True if it is the first for that id."""
        try:
            await self._feedback.insert_one(entry)
            return True
        except DuplicateKeyError:
            await self._feedback.replace_one({"_id": entry["_id"]}, entry)
            return False

    async def meeting_feedback(self, tenant: str, meeting_id: str) -> list[Document]:
        return await self._find(FEEDBACK, {"tenant": tenant, "meeting_id": meeting_id}, "_id")

    # ------------------------------------------------------------ directory

    async def save_snapshot(
        self, collection: str, key: str, snapshot: Document, at: datetime
    ) -> None:
        """Keep the newest directory snapshot per key (older redeliveries change nothing)."""
        doc = {**snapshot, "_id": key, "snapshot_at": at}
        try:
            await self.db[collection].insert_one(doc)
        except DuplicateKeyError:
            await self.db[collection].replace_one({"_id": key, "snapshot_at": {"$lt": at}}, doc)

    async def units_of(self, tenant: str, endpoints: Sequence[str]) -> set[str]:
        """The units whose endpoints these are (from the directory's snapshots, by `_id`)."""
        ids = [f"{tenant}:{code}" for code in endpoints]
        found = self._endpoints.find({"_id": {"$in": ids}}, {"unit": 1})
        return {doc["unit"] async for doc in found if doc.get("unit")}

    async def directory(self, collection: str, tenant: str) -> dict[str, Document]:
        return {d["code"]: d async for d in self.db[collection].find({"tenant": tenant})}

    async def save_report(self, report: Document) -> None:
        """Keep a compiled report (under its `_id`), replacing the earlier snapshot."""
        await self._reports.replace_one({"_id": report["_id"]}, report, upsert=True)

    async def saved_report(self, report_id: str) -> Document | None:
        return await self._reports.find_one({"_id": report_id})

    async def year_records(
        self, tenant: str, year: int, start: datetime, end: datetime
    ) -> dict[str, Any]:
        """The raw records of a year (aggregated in Python: FerretDB has no $lookup)."""
        checklists = await self._find(
            CHECKLISTS, {"tenant": tenant, "meeting_start": {"$gte": start, "$lt": end}}
        )
        ids = {c["_id"] for c in checklists}
        results = await self._find(RESULTS, {"tenant": tenant})
        return {
            "checklists": checklists,
            "results": [r for r in results if r["checklist_id"] in ids],
            "incidents": await self._find(
                INCIDENTS, {"tenant": tenant, "opened_at": {"$gte": start, "$lt": end}}
            ),
            "inspections": await self._find(
                INSPECTIONS, {"tenant": tenant, "due_at": {"$gte": start, "$lt": end}}
            ),
            "annual": await self._find(ANNUAL, {"tenant": tenant, "year": str(year)}),
            "feedback": await self._find(
                FEEDBACK, {"tenant": tenant, "meeting_start": {"$gte": start, "$lt": end}}
            ),
            "notices": await self.notice_facts(start, end, tenant),
            "meetings": await self._find(
                "meetings", {"tenant": tenant, "start": {"$gte": start, "$lt": end}}
            ),
        }

    # ------------------------------------------------------------ written notices

    async def save_notice_fact(self, fact: Document) -> None:
        """Once per fact (a redelivered event finds its row there), with the rest of the
        consumer batch's."""
        await insert_new_in_batch(self._notice_facts, [fact])

    async def notice_facts(
        self, start: datetime, end: datetime, tenant: str | None = None
    ) -> list[Document]:
        """The facts about notices delivered in [start, end), with their acknowledgements
        (however long after). An acknowledgement never comes before its notice's delivery,
        so older ones are not read: a year's figures do not grow with the years before."""
        acknowledged_since = start - ACK_CLOCK_SKEW
        query: Document = {
            "$or": [
                {"fact": "acknowledged", "at": {"$gte": acknowledged_since}},
                {"at": {"$gte": start, "$lt": end}},
            ],
            **({"tenant": tenant} if tenant else {}),
        }
        return await self._find(NOTICE_FACTS, query)
