"""What inspection does, once, for both doors: Kafka handlers and HTTP routes call these.

Each step reads, asks `domain` to decide with `now`, and writes through `store` (one
document write per state change, its events in that document's outbox)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hnth_contracts import (
    CheckItem,
    CheckSubmitted,
    Event,
    ItemResult,
    ReportDue,
    ReportKind,
    ReportSubmitted,
    SlotAssigned,
    decode_event,
)
from hnth_contracts.policy import Policy
from hnth_kit.clock import Clock
from hnth_kit.consumer import RawMessage
from hnth_kit.mongo import Document
from hnth_kit.timers import Timer, Timers
from inspection import domain
from inspection.report import Records, compile_report
from inspection.store import (
    ANNUAL,
    INSPECTIONS,
    InspectionStore,
    parked_message,
    parked_submission,
)

MISSED = "check_missed"
"""The timer kind that emits `missed` at a checklist's deadline."""
PARKED = "check_parked"
"""The timer kind that gives up on a parked submission whose meeting never came."""


class Rejected(Exception):
    """A request this service refuses, with the HTTP status and both languages."""

    def __init__(
        self,
        status: int,
        code: str,
        vi: str,
        en: str,
        *,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(en)
        self.status, self.code, self.vi, self.en = status, code, vi, en
        self.field = field
        """For 422: the input field that breaks rule `code` (a policy key)."""
        self.source = source
        """For 422: where the rule comes from (the policy's `source`)."""


def rule_broken(policy: Policy, rule: str, field: str, vi: str, en: str) -> Rejected:
    """A 422 naming the field, the policy rule it breaks and the rule's source."""
    return Rejected(422, rule, vi, en, field=field, source=policy.ref(rule).source)


def closed_checklist(checklist: Mapping[str, Any]) -> Rejected:
    endpoint, reason = checklist["endpoint"], checklist["closed_reason"]
    return Rejected(
        409,
        "checklist_closed",
        f"Danh mục kiểm tra của điểm cầu {endpoint} đã đóng ({reason}).",
        f"The checklist of endpoint {endpoint} is closed ({reason}).",
    )


@dataclass
class Inspection:
    store: InspectionStore
    timers: Timers
    clock: Clock
    policy_for: Callable[[str], Policy]
    """The Service's cached policy loader."""
    dead_letter: Callable[[RawMessage, str, str], Awaitable[None]]
    """The consumer's DLQ writer, for parked submissions given up on."""
    park_grace: timedelta = timedelta(minutes=10)
    """How long a submission waits for its meeting's SlotAssigned before the DLQ."""

    # ------------------------------------------------------------ checklists

    async def apply_slot(self, slot: SlotAssigned) -> None:
        """Open, move or close the meeting's checklists to match this revision."""
        existing = await self.store.meeting_checklists(slot.meeting_id)
        policy_ref = self.policy_for(slot.tenant).ref(domain.CHECK_RULE)
        rule = domain.check_rule(slot, policy_ref)
        plan = domain.plan_checklists(slot, existing, self.clock.now(), rule)
        if plan.stale:
            return
        timer_id = domain.deadline_timer_id(slot.meeting_id, slot.revision, slot.check_deadline)
        # earlier revisions' timers go first: a redelivery after a crash finds them again
        for old in domain.timers_to_cancel(existing, timer_id):
            await self.timers.cancel(old)
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
        await self.timers.schedule(
            timer_id,
            MISSED,
            slot.check_deadline,
            slot.tenant,
            {"meeting_id": slot.meeting_id},
        )
        # the cancellation travels on another topic: it may have come first or meanwhile
        if await self.store.is_cancelled(slot.tenant, slot.meeting_id):
            await self.close_meeting(slot.tenant, slot.meeting_id, "cancelled")
        for parked in await self.store.parked_for(slot.tenant, slot.meeting_id):
            await self.apply_parked(parked["_id"], giving_up=False)

    async def close_meeting(self, tenant: str, meeting_id: str, reason: str) -> None:
        await self.store.mark_cancelled(tenant, meeting_id)
        checklists = await self.store.meeting_checklists(meeting_id, tenant)
        await self.store.close_checklists([c["_id"] for c in checklists if not c["closed"]], reason)
        for timer_id in {domain.timer_of(c) for c in checklists}:
            await self.timers.cancel(timer_id)

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
            raise closed_checklist(checklist)

        def decide(current: Document, results: list[Document]) -> Any:
            if current["closed"]:  # closed since the first look (append_result re-reads it)
                raise closed_checklist(current)
            return domain.submission_result(current, results, items, by, at, marker)

        return await self.store.append_result(checklist, marker, decide)

    # ------------------------------------------------------------ results before their slot

    async def submit_event(self, event: CheckSubmitted, raw: RawMessage) -> None:
        """A probe's results from Kafka. Results for a meeting not known here yet are
        parked: its SlotAssigned travels on another topic and may come later."""
        try:
            await self._submit_event(event)
        except Rejected as exc:
            if exc.status == 409:
                return  # results for a closed checklist change nothing
            meeting = await self.store.meeting(event.meeting_id)
            if meeting is not None and event.endpoint not in meeting["endpoints"]:
                raise  # the meeting is known and this endpoint is not in it
            await self.park(event, raw)

    async def _submit_event(self, event: CheckSubmitted) -> None:
        await self.submit(
            event.tenant,
            event.meeting_id,
            event.endpoint,
            event.items,
            event.submitted_by,
            event.submitted_at,
            marker=f"submitted:{event.event_id}",
        )

    async def park(self, event: CheckSubmitted, raw: RawMessage) -> None:
        parked_id = f"{event.tenant}:{event.meeting_id}:{event.event_id}"
        now = self.clock.now()
        await self.store.park(parked_submission(parked_id, event, raw, now))
        await self.timers.schedule(
            f"parked:{parked_id}", PARKED, now + self.park_grace, event.tenant, {"id": parked_id}
        )
        # the slot may have been applied between the first look and the park
        if await self.store.checklist(domain.checklist_id(event.meeting_id, event.endpoint)):
            await self.apply_parked(parked_id, giving_up=False)

    async def apply_parked(self, parked_id: str, *, giving_up: bool) -> None:
        """Apply a parked submission now that its checklist may exist; when `giving_up`
        (the grace period is over) and it still does not, dead-letter it."""
        parked = await self.store.parked_one(parked_id)
        if parked is None:
            return  # applied (or given up on) already
        raw = parked_message(parked)
        event = decode_event(raw.value)
        assert isinstance(event, CheckSubmitted)
        try:
            await self._submit_event(event)
        except Rejected as exc:
            if exc.status != 409:  # (a closed checklist: the result changes nothing)
                if not giving_up:
                    return  # still no checklist for it: it keeps waiting
                await self.dead_letter(raw, exc.code, exc.en)
        await self.store.unpark(parked_id)
        if not giving_up:
            await self.timers.cancel(f"parked:{parked_id}")

    async def fire_parked(self, timer: Timer) -> list[Event]:
        await self.apply_parked(timer.payload["id"], giving_up=True)
        return []

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
