"""Inspection's use cases over an in-memory store: no Kafka, no database.

`MemoryStore` implements `inspection.ports.Store` the simplest way that keeps its promises
(insert-once markers, append-once results, the events staged with the write that causes
them, in `outbox`)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from inspection_samples import T0

from hnth_contracts import Event
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.clock import ManualClock
from hnth_kit.consumer import RawMessage
from inspection.domain.checklists import checklist_id, meeting_key
from inspection.ports import Decide, Document, Store
from inspection.store import ANNUAL, INSPECTIONS
from inspection.usecases import Inspection

POLICIES = Path(__file__).resolve().parents[4] / "policies"


def _matches(doc: Mapping[str, Any], **filters: Any) -> bool:
    return all(doc.get(k) == v for k, v in filters.items() if v is not None)


class MemoryStore:
    def __init__(self) -> None:
        self.meetings: dict[str, Document] = {}
        self.checklists: dict[str, Document] = {}
        self.results: dict[str, list[Document]] = {}
        self.cancelled: set[str] = set()
        self.parked: dict[str, Document] = {}
        self.collections: dict[str, dict[str, Document]] = {INSPECTIONS: {}, ANNUAL: {}}
        self.incident_docs: dict[str, Document] = {}
        self.feedback: dict[str, Document] = {}
        self.snapshots: dict[str, dict[str, Document]] = {"endpoints": {}, "units": {}}
        self.reports: dict[str, Document] = {}
        self.facts: dict[str, Document] = {}
        """notice_facts: notification's facts about written notices, by id."""
        self.markers: set[str] = set()
        self.outbox: list[Event] = []
        """Every event staged with a write, in order."""

    # checklists and meetings
    async def meeting(self, tenant: str, meeting_id: str) -> Document | None:
        return copy.deepcopy(self.meetings.get(meeting_key(tenant, meeting_id)))

    async def save_meeting(self, meeting: Document, new: bool) -> None:
        self.meetings[meeting["_id"]] = copy.deepcopy(meeting)

    async def meeting_checklists(self, tenant: str, meeting_id: str) -> list[Document]:
        meeting = await self.meeting(tenant, meeting_id)
        return await self.checklists_of(meeting) if meeting else []

    async def checklists_of(self, meeting: Document) -> list[Document]:
        ids = [checklist_id(meeting["_id"], e) for e in meeting["endpoints"]]
        found = [self.checklists.get(i) for i in ids]
        return sorted((copy.deepcopy(c) for c in found if c), key=lambda c: str(c["endpoint"]))

    async def meeting_checklist(
        self, tenant: str, meeting_id: str, endpoint: str
    ) -> Document | None:
        return await self.checklist(checklist_id(meeting_key(tenant, meeting_id), endpoint))

    async def checklist(self, checklist_id: str) -> Document | None:
        return copy.deepcopy(self.checklists.get(checklist_id))

    async def insert_checklists(self, checklists: list[Document]) -> None:
        for checklist in checklists:
            self.checklists.setdefault(checklist["_id"], copy.deepcopy(checklist))

    async def replace_checklist(self, checklist: Document) -> None:
        self.checklists[checklist["_id"]] = copy.deepcopy(checklist)

    async def close_checklists(self, ids: Sequence[str], reason: str) -> None:
        for one in ids:
            if not self.checklists[one]["closed"]:
                self.checklists[one] |= {"closed": True, "closed_reason": reason}

    async def mark_cancelled(self, tenant: str, meeting_id: str) -> None:
        self.cancelled.add(f"{tenant}:{meeting_id}")

    async def is_cancelled(self, tenant: str, meeting_id: str) -> bool:
        return f"{tenant}:{meeting_id}" in self.cancelled

    # results and parked submissions
    async def results_of(self, checklist_id: str) -> list[Document]:
        return copy.deepcopy(self.results.get(checklist_id, []))

    async def append_result(
        self, checklist: Document, marker: str, decide: Decide
    ) -> Document | None:
        current = await self.checklist(checklist["_id"]) or checklist
        results = await self.results_of(checklist["_id"])
        if any(r["marker"] == marker for r in results):
            return None
        decided = decide(current, results)
        if decided is None:
            return None
        entry, events = decided
        self.results.setdefault(checklist["_id"], []).append(copy.deepcopy(entry))
        self.outbox.extend(events)
        return entry

    async def park(self, parked: Document) -> None:
        self.parked.setdefault(parked["_id"], parked)

    async def parked_for(self, tenant: str, meeting_id: str) -> list[Document]:
        return [
            p for p in self.parked.values() if _matches(p, tenant=tenant, meeting_id=meeting_id)
        ]

    async def parked_one(self, parked_id: str) -> Document | None:
        return self.parked.get(parked_id)

    async def unpark(self, parked_id: str) -> None:
        self.parked.pop(parked_id, None)

    # tasks
    async def open_task(self, collection: str, task: Document, marker: str) -> None:
        self.collections[collection].setdefault(task["_id"], copy.deepcopy(task))

    async def complete_task(
        self, collection: str, task_id: str, marker: str, changes: Document, events: Sequence[Event]
    ) -> bool:
        task = self.collections[collection].get(task_id)
        if task is None or task["state"] != "open" or marker in self.markers:
            return False
        self.markers.add(marker)
        task.update(copy.deepcopy(changes))
        self.outbox.extend(events)
        return True

    async def update_task(
        self,
        collection: str,
        task_id: str,
        changes: Document,
        events: Sequence[Event],
        expected: Document,
    ) -> bool:
        task = self.collections[collection].get(task_id)
        if task is None or any(task.get(k) != v for k, v in expected.items()):
            return False
        task.update(copy.deepcopy(changes))
        self.outbox.extend(events)
        return True

    async def task(self, collection: str, tenant: str, task_id: str) -> Document | None:
        task = self.collections[collection].get(task_id)
        return copy.deepcopy(task) if task and task["tenant"] == tenant else None

    async def tasks(
        self, collection: str, tenant: str, sort: str, **filters: str | None
    ) -> list[Document]:
        found = [
            t
            for t in self.collections[collection].values()
            if _matches(t, tenant=tenant, **filters)
        ]
        return sorted(found, key=lambda t: t[sort])

    # incidents
    async def endpoint_known(self, tenant: str, endpoint: str, meeting_id: str | None) -> bool:
        if meeting_id:
            return await self.meeting_checklist(tenant, meeting_id, endpoint) is not None
        return f"{tenant}:{endpoint}" in self.snapshots["endpoints"] or any(
            _matches(c, tenant=tenant, endpoint=endpoint) for c in self.checklists.values()
        )

    async def insert_incident(self, incident: Document) -> None:
        self.incident_docs[incident["_id"]] = copy.deepcopy(incident)

    async def incident(self, tenant: str, incident_id: str) -> Document | None:
        found = self.incident_docs.get(incident_id)
        return copy.deepcopy(found) if found and found["tenant"] == tenant else None

    async def incidents(
        self, tenant: str, endpoint: str | None, state: str | None
    ) -> list[Document]:
        found = self.incident_docs.values()
        chosen = [i for i in found if _matches(i, tenant=tenant, endpoint=endpoint, state=state)]
        return sorted(chosen, key=lambda i: i["opened_at"])

    async def resolve_incident(self, incident_id: str, changes: Document) -> bool:
        incident = self.incident_docs[incident_id]
        if incident["state"] != "open":
            return False
        incident.update(changes)
        return True

    async def open_incidents(self, tenant: str, endpoints: Sequence[str]) -> list[Document]:
        found = self.incident_docs.values()
        return [
            i
            for i in found
            if _matches(i, tenant=tenant, state="open") and i["endpoint"] in endpoints
        ]

    # feedback, directory, reports
    async def save_feedback(self, entry: Document) -> bool:
        first = entry["_id"] not in self.feedback
        self.feedback[entry["_id"]] = copy.deepcopy(entry)
        return first

    async def meeting_feedback(self, tenant: str, meeting_id: str) -> list[Document]:
        found = [
            f for f in self.feedback.values() if _matches(f, tenant=tenant, meeting_id=meeting_id)
        ]
        return sorted(found, key=lambda f: f["_id"])

    async def save_snapshot(
        self, collection: str, key: str, snapshot: Document, at: datetime
    ) -> None:
        known = self.snapshots[collection].get(key)
        if known is None or known["snapshot_at"] < at:
            self.snapshots[collection][key] = {**snapshot, "_id": key, "snapshot_at": at}

    async def units_of(self, tenant: str, endpoints: Sequence[str]) -> set[str]:
        found = (self.snapshots["endpoints"].get(f"{tenant}:{e}") for e in endpoints)
        return {d["unit"] for d in found if d and d.get("unit")}

    async def directory(self, collection: str, tenant: str) -> dict[str, Document]:
        found = self.snapshots[collection].values()
        return {d["code"]: d for d in found if d["tenant"] == tenant}

    async def year_records(
        self, tenant: str, year: int, start: datetime, end: datetime
    ) -> dict[str, Any]:
        raise NotImplementedError("the report is tested on the real store")

    async def save_report(self, report: Document) -> None:
        self.reports[report["_id"]] = copy.deepcopy(report)

    async def save_notice_fact(self, fact: Document) -> None:
        self.facts.setdefault(fact["_id"], dict(fact))

    async def notice_facts(
        self, start: datetime, end: datetime, tenant: str | None = None
    ) -> list[Document]:
        return [
            f
            for f in self.facts.values()
            if (tenant is None or f["tenant"] == tenant)
            and (f["fact"] == "acknowledged" or start <= f["at"] < end)
        ]

    async def saved_report(self, report_id: str) -> Document | None:
        return copy.deepcopy(self.reports.get(report_id))


class MemoryTimers:
    def __init__(self) -> None:
        self.pending: dict[str, tuple[str, datetime]] = {}
        self.cancelled: set[str] = set()

    async def schedule(
        self, timer_id: str, kind: str, due_at: datetime, tenant: str, payload: Mapping[str, Any]
    ) -> None:
        if timer_id not in self.cancelled:  # a cancelled timer stays cancelled
            self.pending.setdefault(timer_id, (kind, due_at))

    async def cancel(self, timer_id: str) -> None:
        if self.pending.pop(timer_id, None) is not None:
            self.cancelled.add(timer_id)


@functools.cache
def _policy(tenant: str) -> Policy:
    return load_policy(POLICIES, tenant)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def timers() -> MemoryTimers:
    return MemoryTimers()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def dead_letters() -> list[tuple[RawMessage, str, str]]:
    return []


@pytest.fixture
def cases(store, timers, clock, dead_letters) -> Inspection:
    async def dead_letter(raw: RawMessage, code: str, why: str) -> None:
        dead_letters.append((raw, code, why))

    memory: Store = store  # the in-memory store keeps the store's Protocol
    return Inspection(memory, timers, clock, _policy, dead_letter)
