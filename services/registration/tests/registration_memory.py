"""An in-memory store implementing the use cases' store Protocols (`MeetingStore`,
`TimelineStore`, `RecordStore`): no Kafka, no database. Events staged with a write are kept
in `outbox`, as the real store keeps them in the written document; writes made as the effect
of an event are keyed by its id, so a redelivery changes nothing, as in the real store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hnth_contracts import Event
from registration.store import MeetingQuery, StaleWrite
from registration.usecases.meetings import MeetingStore
from registration.usecases.timeline import RecordStore, TimelineStore

Document = dict[str, Any]


class MemoryEntries:
    def __init__(self, active: dict[str, bool]) -> None:
        self.entries = {code: {"code": code, "active": on} for code, on in active.items()}

    async def active(self, tenant: str, codes: Sequence[str]) -> dict[str, bool]:
        return {c: bool(self.entries[c]["active"]) for c in codes if c in self.entries}

    async def get(self, tenant: str, code: str) -> Document | None:
        return self.entries.get(code)

    async def list(self, tenant: str, filters: Document) -> list[Document]:
        return [e for e in self.entries.values() if all(e.get(k) == v for k, v in filters.items())]

    async def units_of(self, tenant: str, codes: Sequence[str]) -> set[str]:
        return {u for c in codes if (u := self.entries.get(c, {}).get("unit"))}


class MemoryStore:
    def __init__(
        self,
        units: dict[str, bool],
        endpoints: dict[str, bool],
        groups: dict[str, bool] | None = None,
    ) -> None:
        self.units = MemoryEntries(units)
        self.endpoints = MemoryEntries(endpoints)
        self.groups = MemoryEntries(groups or {})
        self.stored: dict[tuple[str, str], Document] = {}
        self.outbox: list[Event] = []
        self.entries: list[Document] = []
        self.prefetched: list[tuple[str, str]] = []
        """The meetings a consumer batch's prefetch asked for."""

    async def meeting(self, tenant: str, meeting_id: str) -> Document | None:
        found = self.stored.get((tenant, meeting_id))
        return dict(found) if found else None

    async def rehearsals(self, tenant: str, meeting_id: str) -> list[Document]:
        found = [
            dict(m)
            for (t, _), m in self.stored.items()
            if t == tenant and m.get("rehearsal_of") == meeting_id
        ]
        return sorted(found, key=lambda m: m["start"])

    async def create_meeting(self, meeting: Document, event: Event) -> tuple[Document, bool]:
        key = (meeting["tenant"], meeting["_id"])
        if key in self.stored:
            return dict(self.stored[key]), False
        self.stored[key] = dict(meeting)
        self.outbox.append(event)
        return dict(meeting), True

    async def update_meeting(
        self, tenant: str, meeting_id: str, revision: int, fields: Document, events: Sequence[Event]
    ) -> Document:
        current = self.stored[(tenant, meeting_id)]
        if current["revision"] != revision:
            raise StaleWrite(meeting_id)
        current.update(fields)
        self.outbox.extend(events)
        return dict(current)

    async def decide_hold(
        self, tenant: str, meeting_id: str, revision: int, fields: Document, events: Sequence[Event]
    ) -> bool:
        current = self.stored[(tenant, meeting_id)]
        if current.get("hold", {}).get("revision") == revision:
            return False
        if current["revision"] != revision:
            raise StaleWrite(meeting_id)
        current.update(fields)
        self.outbox.extend(events)
        return True

    async def prefetch_meetings(self, meetings: Sequence[tuple[str, str]]) -> None:
        self.prefetched.extend(meetings)

    async def adopt_meeting(self, meeting: Document, event: Event) -> bool:
        key = (meeting["tenant"], meeting["_id"])
        if key in self.stored:
            return str(event.event_id) in self.stored[key].get("_applied", ())
        self.stored[key] = {**meeting, "_applied": [str(event.event_id)]}
        return True

    async def apply_external(self, event: Event, fields: Document) -> bool:
        found = self.stored.get((event.tenant, getattr(event, "meeting_id", "")))
        if found is None or found.get("source") != event.producer:
            return False
        applied = found.setdefault("_applied", [])
        if str(event.event_id) not in applied:
            found.update(fields)
            applied.append(str(event.event_id))
        return True

    async def set_reached(
        self, tenant: str, meeting_id: str, revision: int, endpoints: Sequence[str]
    ) -> None:
        found = self.stored.get((tenant, meeting_id))
        if found is not None and found.get("reached_revision", revision) <= revision:
            found.update(reached=list(endpoints), reached_revision=revision)

    async def add_to_timeline(self, event: Event, meeting_id: str, summary: Document) -> None:
        if any(e["_id"] == str(event.event_id) for e in self.entries):
            return
        entry = {"_id": str(event.event_id), "tenant": event.tenant, "meeting_id": meeting_id}
        self.entries.append(entry | {"type": event.type, "at": event.occurred_at, **summary})

    async def timeline(self, tenant: str, meeting_id: str) -> list[Document]:
        return [e for e in self.entries if e["meeting_id"] == meeting_id]

    async def decisions(self, tenant: str, meeting_ids: Sequence[str]) -> dict[str, list[Document]]:
        return {m: [e for e in self.entries if e["meeting_id"] == m] for m in meeting_ids}

    async def meetings(
        self, query: MeetingQuery, limit: int, *, newest_first: bool = False
    ) -> list[Document]:
        found = sorted(
            (m for (tenant, _), m in self.stored.items() if tenant == query.tenant),
            key=lambda m: (m["start"], m["_id"]),
            reverse=newest_first,
        )
        return found[:limit]


class MemoryMaterials:
    """The minutes uploaded (with the reports their upload announced) and the record
    announcements, one per report id."""

    def __init__(self) -> None:
        self.uploaded: list[Document] = []
        self.records: dict[tuple[str, str], Event] = {}

    def seed_minutes(self, tenant: str, meeting_id: str, reports: Sequence[str] = ()) -> None:
        minutes = {"tenant": tenant, "meeting_id": meeting_id, "kind": "minutes"}
        self.uploaded.append(minutes | {"reports": list(reports)})

    async def minutes(self, tenant: str, meeting_id: str) -> list[Document]:
        return [m for m in self.uploaded if m["tenant"] == tenant and m["meeting_id"] == meeting_id]

    async def submit_record(self, tenant: str, report_id: str, event: Event) -> None:
        self.records.setdefault((tenant, report_id), event)


def _implements(store: MemoryStore, materials: MemoryMaterials) -> None:
    # mypy checks the fakes keep up with the Protocols
    _: tuple[MeetingStore, TimelineStore, RecordStore] = (store, store, materials)
