"""An in-memory store implementing the meeting use cases' `MeetingStore` Protocol: no
Kafka, no database. Events staged with a write are kept in `outbox`, as the real store
keeps them in the written document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hnth_contracts import Event
from registration.store import MeetingQuery, StaleWrite
from registration.usecases.meetings import MeetingStore

Document = dict[str, Any]


class MemoryEntries:
    def __init__(self, active: dict[str, bool]) -> None:
        self.entries = {code: {"code": code, "active": on} for code, on in active.items()}

    async def active(self, tenant: str, codes: Sequence[str]) -> dict[str, bool]:
        return {c: bool(self.entries[c]["active"]) for c in codes if c in self.entries}

    async def get(self, tenant: str, code: str) -> Document | None:
        return self.entries.get(code)


class MemoryStore:
    def __init__(self, units: dict[str, bool], endpoints: dict[str, bool]) -> None:
        self.units = MemoryEntries(units)
        self.endpoints = MemoryEntries(endpoints)
        self.stored: dict[tuple[str, str], Document] = {}
        self.outbox: list[Event] = []
        self.entries: list[Document] = []

    async def meeting(self, tenant: str, meeting_id: str) -> Document | None:
        found = self.stored.get((tenant, meeting_id))
        return dict(found) if found else None

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


def _implements(store: MemoryStore) -> MeetingStore:
    return store  # mypy checks the fake keeps up with the Protocol
