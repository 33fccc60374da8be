"""What inspection does, once, for both doors: Kafka handlers and HTTP routes call these.

Each step reads, asks `domain` to decide with `now`, and writes through `store` (one
document write per state change, its events in that document's outbox)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hnth_contracts import (
    CheckItem,
    Event,
    ItemResult,
    ReportDue,
    ReportKind,
    ReportSubmitted,
    SlotAssigned,
)
from hnth_contracts.policy import Policy
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.timers import Timer, Timers
from inspection import domain
from inspection.report import Records, compile_report
from inspection.store import ANNUAL, INSPECTIONS, InspectionStore

MISSED = "check_missed"
"""The timer kind that emits `missed` at a checklist's deadline."""


class Rejected(Exception):
    """A request this service refuses, with the HTTP status and both languages."""

    def __init__(
        self, status: int, code: str, vi: str, en: str, *, field: str | None = None
    ) -> None:
        super().__init__(en)
        self.status, self.code, self.vi, self.en = status, code, vi, en
        self.field = field
        """For 422: the input field that breaks rule `code`."""


@dataclass
class Inspection:
    store: InspectionStore
    timers: Timers
    clock: Clock
    policy_for: Callable[[str], Policy]
    """The Service's cached policy loader."""

    # ------------------------------------------------------------ checklists

    async def apply_slot(self, slot: SlotAssigned) -> None:
        """Open, move or close the meeting's checklists to match this revision."""
        existing = await self.store.meeting_checklists(slot.meeting_id)
        plan = domain.plan_checklists(slot, existing, self.clock.now())
        if plan.stale:
            return
        before = {c["_id"]: c for c in existing}
        known = [*(c["endpoint"] for c in existing), *slot.endpoints]
        meeting = {
            "_id": slot.meeting_id,
            "tenant": slot.tenant,
            "revision": slot.revision,
            "host_unit": slot.host_unit,
            "start": slot.slot.meeting.start,
            "end": slot.slot.meeting.end,
        }
        await self.store.save_meeting({**meeting, "endpoints": list(dict.fromkeys(known))})
        await self.store.insert_checklists(plan.open)
        for checklist in [*plan.reopen, *plan.keep]:
            if checklist != before[checklist["_id"]]:
                await self.store.replace_checklist(checklist)
        await self.store.close_checklists([c["_id"] for c in plan.close], "changed")
        moved = {c["due_at"] for c in existing if not c["closed"]} - {slot.check_deadline}
        for due_at in moved:
            await self.timers.cancel(domain.deadline_timer_id(slot.meeting_id, due_at))
        await self.timers.schedule(
            domain.deadline_timer_id(slot.meeting_id, slot.check_deadline),
            MISSED,
            slot.check_deadline,
            slot.tenant,
            {"meeting_id": slot.meeting_id},
        )
        # the cancellation travels on another topic: it may have come first or meanwhile
        if await self.store.is_cancelled(slot.tenant, slot.meeting_id):
            await self.close_meeting(slot.tenant, slot.meeting_id, "cancelled")

    async def close_meeting(self, tenant: str, meeting_id: str, reason: str) -> None:
        await self.store.mark_cancelled(tenant, meeting_id)
        checklists = await self.store.meeting_checklists(meeting_id, tenant)
        await self.store.close_checklists([c["_id"] for c in checklists if not c["closed"]], reason)
        for due_at in {c["due_at"] for c in checklists}:
            await self.timers.cancel(domain.deadline_timer_id(meeting_id, due_at))

    async def submit(
        self,
        tenant: str,
        meeting_id: str,
        endpoint: str,
        items: Mapping[CheckItem, ItemResult],
        by: str,
        at: datetime,
        marker: str,
    ) -> Document | None:
        """Record a technician's or probe's results; None when this marker was applied."""
        checklist_id = domain.checklist_id(meeting_id, endpoint)
        checklist = await self.store.checklist(checklist_id)
        if checklist is None or checklist["tenant"] != tenant:
            raise Rejected(
                404,
                "unknown_endpoint",
                f"Điểm cầu {endpoint} không tham gia cuộc họp {meeting_id}.",
                f"Endpoint {endpoint} is not part of meeting {meeting_id}.",
            )
        if checklist["closed"]:
            raise Rejected(
                409,
                "checklist_closed",
                f"Danh mục kiểm tra của điểm cầu {endpoint} đã đóng "
                f"({checklist['closed_reason']}).",
                f"The checklist of endpoint {endpoint} is closed ({checklist['closed_reason']}).",
            )

        def decide(current: Document, results: list[Document]) -> Any:
            if current["closed"]:
                return None
            return domain.submission_result(current, results, items, by, at, marker)

        return await self.store.append_result(checklist, marker, decide)

    async def fire_missed(self, timer: Timer) -> list[Event]:
        """At a meeting's check deadline: `missed` for each endpoint with no result in this
        round. The events are staged in the results' own inserts, so the kit's firing
        record carries none."""

        def decide(current: Document, results: list[Document]) -> Any:
            return domain.missed_result(current, results, timer.due_at)

        checklists = await self.store.meeting_checklists(timer.payload["meeting_id"])
        await asyncio.gather(
            *(self.store.append_result(c, domain.missed_marker(c), decide) for c in checklists)
        )
        return []

    async def board(self, meeting_id: str, tenant: str) -> list[Document]:
        checklists = await self.store.meeting_checklists(meeting_id, tenant)
        incidents = await self.store.open_incidents(tenant, [c["endpoint"] for c in checklists])
        histories = await asyncio.gather(*(self.store.results_of(c["_id"]) for c in checklists))
        return [
            domain.board_item(c, results, incidents)
            for c, results in zip(checklists, histories, strict=True)
        ]

    # ------------------------------------------------------------ quality feedback

    async def held_meeting(self, tenant: str, meeting_id: str, endpoint: str | None) -> Document:
        """The meeting feedback is about, if it may be given now (else Rejected)."""
        meeting = await self.store.meeting(meeting_id)
        if meeting is not None and meeting["tenant"] != tenant:
            meeting = None
        cancelled = await self.store.is_cancelled(tenant, meeting_id)
        refusal = domain.feedback_refusal(meeting, endpoint, cancelled, self.clock.now())
        if refusal is not None:
            raise Rejected(*refusal)
        assert meeting is not None
        return meeting

    async def give_feedback(
        self,
        meeting: Document,
        endpoint: str | None,
        scores: Mapping[str, int],
        comment: str,
        by: str,
    ) -> tuple[Document, bool]:
        """Store the feedback (replacing an earlier one); True if it is the first."""
        entry = domain.feedback_entry(
            meeting, endpoint=endpoint, scores=scores, comment=comment, by=by, now=self.clock.now()
        )
        return entry, await self.store.save_feedback(entry)

    # ------------------------------------------------------------ tasks

    async def open_task(self, due: ReportDue) -> None:
        now = self.clock.now()
        if due.kind is ReportKind.PERIODIC_INSPECTION:
            policy = self.policy_for(due.tenant)
            rule = "inspection.with_line_provider"
            task = domain.inspection_task(due, bool(policy.value(rule)), policy.ref(rule), now)
            await self.store.open_task(INSPECTIONS, task, str(due.event_id))
        elif due.kind is ReportKind.ANNUAL_ENDPOINT_REPORT:
            await self.store.open_task(ANNUAL, domain.annual_task(due, now), str(due.event_id))

    async def complete_task(
        self, collection: str, task: Document, by: str, changes: Document, marker: str
    ) -> None:
        kind = (
            ReportKind.PERIODIC_INSPECTION
            if collection == INSPECTIONS
            else ReportKind.ANNUAL_ENDPOINT_REPORT
        )
        now = self.clock.now()
        submitted = ReportSubmitted.create(
            tenant=task["tenant"],
            correlation_id=task["_id"],
            producer=domain.PRODUCER,
            occurred_at=now,
            report_id=task["_id"],
            kind=kind,
            endpoint=task.get("endpoint"),
            unit=task.get("unit"),
            submitted_by=by,
            submitted_at=now,
        )
        if not await self.store.complete_task(
            collection, task["_id"], marker, changes, [submitted]
        ):
            raise Rejected(
                409,
                "task_closed",
                "Nhiệm vụ này đã được nộp kết quả.",
                "This task has already been handed in.",
            )

    # ------------------------------------------------------------ year-end report

    async def compile(self, tenant: str, year: int) -> Document:
        tz_name = self.policy_for(tenant).timezone
        tz = ZoneInfo(tz_name)
        start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
        raw = await self.store.year_records(tenant, year, start, end)
        records = Records(
            **raw,
            endpoints=await self.store.directory("endpoints", tenant),
            units=await self.store.directory("units", tenant),
        )
        report = compile_report(records, year, tz_name, self.clock.now())
        report["tenant"] = tenant
        report["rules"] = [
            self.policy_for(tenant).ref(r).model_dump()
            for r in ("check.lead_time", "inspection.period_months", "report.annual.due")
        ]
        return report
