"""An in-memory `usecases.Store` + `usecases.DeliveryStore` and timer queue: the use cases
without Kafka or a database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hnth_contracts import ContactsUpdated, Event, UnitUpdated
from hnth_kit.mongo import Document
from hnth_kit.outbox import staged_first
from hnth_kit.timers import Timer
from notification.domain import facts, technicians
from notification.domain.attempts import Recorded
from notification.domain.meetings import Meeting
from notification.domain.notices import Notice, Status
from notification.store import attempt_update, notice_document, resend_document
from notification.usecases import Snapshot

NOTICES = SimpleNamespace(name="notices")
"""Where the record's facts are staged (only the collection's name is read)."""


class MemoryStore:
    """Notices inserted once by id, meetings kept at their highest revision, facts by key."""

    def __init__(self) -> None:
        self.notices: dict[str, Document] = {}
        self.meetings: dict[str, Meeting] = {}
        self.cancellations: dict[str, str | None] = {}
        self.checks: dict[tuple[str, str], dict[str, str]] = {}
        self.submitted: set[str] = set()
        self.snapshots: list[Snapshot] = []
        self.queue: dict[str, datetime] = {}
        """Pending notice id -> when due, as `notice_queue`."""
        self.claims: dict[str, tuple[str, datetime]] = {}
        """Notice id -> (owner, lease until), as `notice_claims`."""
        self.published: list[Event] = []
        """The facts staged with the writes that caused them (the outbox's events)."""
        self.contacts: dict[tuple[str, str], Document] = {}
        """(tenant, recipient key) -> contact, from the directory snapshots."""
        self.directory: dict[str, Document] = {}
        """The directory entries by key, as `directory` (the newest snapshot wins)."""

    async def add_notices(self, notices: Sequence[Notice], now: datetime) -> list[str]:
        unique = {n.id: n for n in notices}.values()  # as the store: a notice given twice once
        stored = [n for n in unique if n.id not in self.notices]
        for n in stored:
            self.notices[n.id] = notice_document(n, now)
            self.queue[n.id] = now
        return [n.id for n in stored]

    async def add_resend(
        self, original: Document, cause: str, by: str, now: datetime
    ) -> tuple[Document, bool]:
        doc = resend_document(original, cause, by, now)
        if doc["_id"] in self.notices:
            return self.notices[doc["_id"]], False
        self.notices[doc["_id"]] = doc
        self.queue[doc["_id"]] = now
        return doc, True

    async def notice(self, notice_id: str) -> Document | None:
        return self.notices.get(notice_id)

    async def notices_to_send(self, notice_ids: Sequence[str]) -> dict[str, Document]:
        return {i: self.notices[i] for i in notice_ids if i in self.notices}

    async def for_meeting(self, meeting_id: str, tenant: str) -> list[Document]:
        found = [
            n
            for n in self.notices.values()
            if (n["meeting_id"], n["tenant"]) == (meeting_id, tenant)
        ]
        return sorted(found, key=lambda n: n["created_at"])

    async def for_cause(self, cause: str) -> list[Document]:
        return [n for n in self.notices.values() if n["cause"] == cause]

    async def acknowledge(
        self, notice_id: str, now: datetime, by: str | None = None
    ) -> Document | None:
        found = self.notices.get(notice_id)
        if found is None:
            return None
        original = self.notices.get(found.get("resend_of") or "")
        for notice in (n for n in (found, original) if n is not None):
            self.published.extend(facts.acknowledged(notice, now))
            if notice["acknowledged_at"] is None:
                notice["acknowledged_at"] = now
                notice["acknowledged_by"] = by
        return found

    async def meeting(self, tenant: str, meeting_id: str) -> Meeting | None:
        return self.meetings.get(f"{tenant}:{meeting_id}")

    async def save_meeting(self, meeting: Meeting, new: bool = False) -> None:
        key = f"{meeting.tenant}:{meeting.meeting_id}"
        known = self.meetings.get(key)
        if known is None or known.revision <= meeting.revision:
            self.meetings[key] = meeting

    async def mark_cancelled(self, tenant: str, meeting_id: str, reason: str | None) -> None:
        self.cancellations.setdefault(f"{tenant}:{meeting_id}", reason)

    async def cancelled(self, tenant: str, meeting_id: str) -> bool:
        return f"{tenant}:{meeting_id}" in self.cancellations

    async def record_check(self, tenant: str, meeting_id: str, endpoint: str, outcome: str) -> None:
        self.checks.setdefault((tenant, meeting_id), {})[endpoint] = outcome

    async def checked_endpoints(
        self, tenant: str, meeting_id: str, endpoints: Sequence[str]
    ) -> list[str]:
        return [e for e in self.checks.get((tenant, meeting_id), {}) if e in endpoints]

    async def mark_report_submitted(self, tenant: str, report_id: str) -> None:
        self.submitted.add(f"{tenant}:{report_id}")

    async def report_submitted(self, tenant: str, report_id: str) -> bool:
        return f"{tenant}:{report_id}" in self.submitted

    async def save_snapshot(self, event: Snapshot) -> None:
        self.snapshots.append(event)
        key, fields = technicians.entry_of(event)
        held = self.directory.get(key)
        if held is None or held["occurred_at"] < event.occurred_at:
            self.directory[key] = {"_id": key, "tenant": event.tenant, **fields}
            self.directory[key]["occurred_at"] = event.occurred_at
        if isinstance(event, ContactsUpdated):
            roles = ("it_department", "line_provider", "power_company", "duty")
            found = {role: getattr(event, role) for role in roles}
        elif isinstance(event, UnitUpdated):
            found = {f"unit:{event.code}": event.contact}
        else:
            found = {f"technician:{event.code}": event.technician}
        for key, contact in found.items():
            if contact is not None:
                self.contacts[(event.tenant, key)] = contact.model_dump()

    async def directory_entry(self, doc_id: str) -> Document | None:
        return self.directory.get(doc_id)

    async def directory_of(self, tenant: str) -> list[Document]:
        return [e for e in self.directory.values() if e["tenant"] == tenant]

    # ------------------------------------------------------------ sending

    async def due(self, now: datetime, limit: int) -> list[str]:
        return sorted((i for i, due in self.queue.items() if due <= now), key=self.queue.get)[
            :limit
        ]

    async def claim_many(
        self, notice_ids: Sequence[str], owner: str, now: datetime, lease: timedelta
    ) -> list[str]:
        taken = []
        for notice_id in notice_ids:
            held = self.claims.get(notice_id)
            if held is None or held[1] < now:
                self.claims[notice_id] = (owner, now + lease)
                taken.append(notice_id)
        return taken

    async def release_many(self, notice_ids: Sequence[str], owner: str) -> None:
        for notice_id in notice_ids:
            if self.claims.get(notice_id, ("",))[0] == owner:
                del self.claims[notice_id]

    async def settle_queue(self, notice_id: str, notice: Document | None, now: datetime) -> None:
        if notice is not None and notice["status"] == Status.PENDING.value:
            self.queue[notice_id] = notice["next_attempt_at"]
        elif notice is not None:
            self.queue.pop(notice_id, None)

    async def entry(self, tenant: str, key: str) -> Document | None:
        return self.directory.get(f"{tenant}:{key}")

    async def contact(self, tenant: str, recipient: str) -> Document | None:
        found = self.contacts.get((tenant, recipient))
        if found is None and recipient == "duty":
            found = self.contacts.get((tenant, "it_department"))
        return found

    async def record(self, recorded: Sequence[Recorded]) -> None:
        for r in recorded:
            notice = self.notices.get(r.notice_id)
            if notice is not None and notice["status"] == Status.PENDING.value:
                notice.update(attempt_update(r.result, r.at, r.address, r.message_id))
                self.published.extend(r.events)
                # as the real record does: the facts kept for publishing from memory
                entries = [{"event_id": str(e.event_id)} for e in r.events]
                staged_first(NOTICES, f"a-{r.notice_id}", r.notice_id, entries)  # type: ignore[arg-type]
            if r.result.status is Status.PENDING and r.result.next_attempt_at is not None:
                self.queue[r.notice_id] = r.result.next_attempt_at

    async def dequeue(self, notice_ids: Sequence[str]) -> None:
        for notice_id in notice_ids:
            self.queue.pop(notice_id, None)


class MemoryTimers:
    def __init__(self) -> None:
        self.timers: dict[str, tuple[str, datetime, str, dict[str, Any]]] = {}

    async def schedule_many(self, timers: Sequence[Timer]) -> None:
        for t in timers:
            self.timers.setdefault(t.id, (t.kind, t.due_at, t.tenant, dict(t.payload)))
