"""An in-memory `usecases.Store` and timer queue: the use cases without Kafka or a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hnth_kit.mongo import Document
from notification.domain.meetings import Meeting
from notification.domain.notices import Notice
from notification.store import notice_document, resend_document
from notification.usecases import Snapshot


class MemoryStore:
    """Notices inserted once by id, meetings kept at their highest revision, facts by key."""

    def __init__(self) -> None:
        self.notices: dict[str, Document] = {}
        self.meetings: dict[str, Meeting] = {}
        self.cancellations: dict[str, str | None] = {}
        self.checks: dict[tuple[str, str], dict[str, str]] = {}
        self.submitted: set[str] = set()
        self.snapshots: list[Snapshot] = []

    async def add_notices(self, notices: Sequence[Notice], now: datetime) -> None:
        for n in notices:
            self.notices.setdefault(n.id, notice_document(n, now))

    async def add_resend(
        self, original: Document, cause: str, by: str, now: datetime
    ) -> tuple[Document, bool]:
        doc = resend_document(original, cause, by, now)
        if doc["_id"] in self.notices:
            return self.notices[doc["_id"]], False
        self.notices[doc["_id"]] = doc
        return doc, True

    async def notice(self, notice_id: str) -> Document | None:
        return self.notices.get(notice_id)

    async def for_meeting(self, meeting_id: str, tenant: str) -> list[Document]:
        found = [
            n
            for n in self.notices.values()
            if (n["meeting_id"], n["tenant"]) == (meeting_id, tenant)
        ]
        return sorted(found, key=lambda n: n["created_at"])

    async def for_cause(self, cause: str) -> list[Document]:
        return [n for n in self.notices.values() if n["cause"] == cause]

    async def acknowledge(self, notice_id: str, now: datetime) -> Document | None:
        found = self.notices.get(notice_id)
        if found is not None and found["acknowledged_at"] is None:
            found["acknowledged_at"] = now
        return found

    async def meeting(self, tenant: str, meeting_id: str) -> Meeting | None:
        return self.meetings.get(f"{tenant}:{meeting_id}")

    async def save_meeting(self, meeting: Meeting) -> None:
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

    async def checked_endpoints(self, tenant: str, meeting_id: str) -> list[str]:
        return list(self.checks.get((tenant, meeting_id), {}))

    async def mark_report_submitted(self, tenant: str, report_id: str) -> None:
        self.submitted.add(f"{tenant}:{report_id}")

    async def report_submitted(self, tenant: str, report_id: str) -> bool:
        return f"{tenant}:{report_id}" in self.submitted

    async def save_snapshot(self, event: Snapshot) -> None:
        self.snapshots.append(event)


class MemoryTimers:
    def __init__(self) -> None:
        self.timers: dict[str, tuple[str, datetime, str, dict[str, Any]]] = {}

    async def schedule(
        self, timer_id: str, kind: str, due_at: datetime, tenant: str, payload: Mapping[str, Any]
    ) -> bool:
        if timer_id in self.timers:
            return False
        self.timers[timer_id] = (kind, due_at, tenant, dict(payload))
        return True
