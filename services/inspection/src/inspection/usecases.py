"""What inspection does, once, for both doors: Kafka handlers and HTTP routes call these.

Each use case loads, asks `domain` to decide with `now`, and writes through the store (one
document write per state change, its events in that document's outbox). A request it
refuses raises kit's `Refusal`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hnth_contracts import (
    CheckItem,
    CheckSubmitted,
    EndpointUpdated,
    Event,
    ItemResult,
    NoticeAcknowledged,
    NoticeDelivered,
    ReportDue,
    ReportKind,
    SlotAssigned,
    UnitUpdated,
    decode_event,
)
from hnth_contracts.policy import Policy
from hnth_contracts.rules import Breach, zone
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import Clock
from hnth_kit.consumer import RawMessage
from hnth_kit.refusal import Refusal
from hnth_kit.timers import Timer
from inspection.domain import Document, checklists, checks, feedback, incidents, plans, tasks
from inspection.domain.report import Records, compile_report, notice_fact, notice_figures
from inspection.ports import Store, TimerPort
from inspection.store import ANNUAL, INSPECTIONS, parked_message, parked_submission

MISSED = "check_missed"
"""The timer kind that emits `missed` at a checklist's deadline."""
PARKED = "check_parked"
"""The timer kind that gives up on a parked submission whose meeting never came."""
REPORT_RULES = (
    "check.lead_time",
    "notice.lead_time",
    "inspection.period_months",
    "report.annual.due",
    "registration.official_letter",
)
"""The rules the provincial report cites."""


def closed_checklist(checklist: Mapping[str, Any]) -> Refusal:
    endpoint, reason = checklist["endpoint"], checklist["closed_reason"]
    return Refusal(
        409,
        "checklist_closed",
        f"Danh mục kiểm tra của điểm cầu {endpoint} đã đóng ({reason}).",
        f"The checklist of endpoint {endpoint} is closed ({reason}).",
    )


def broken(policy: Policy, breach: Breach | None) -> None:
    """Refuse with the rule `breach` names, if any."""
    if breach is not None:
        raise Refusal.rule(policy, breach.rule, breach.field, breach.vi, breach.en)


def problems_say_what(policy: Policy, items: Mapping[CheckItem, ItemResult]) -> None:
    """Refuse a problem without a note, when the policy asks for one."""
    breach = checks.note_breach(items, "items")
    if breach is not None and policy.value(checks.NOTE_RULE):
        broken(policy, breach)


def may_act(who: Principal, endpoint: str | None, unit: str | None = None) -> None:
    """Operators act anywhere; a technician only on its endpoint, a registrar its unit."""
    if who.role is Role.OPERATOR:
        return
    if who.role is Role.TECHNICIAN and who.serves(endpoint):
        return
    if who.role is Role.REGISTRAR and unit is not None and who.unit == unit:
        return
    raise Refusal(
        403,
        "forbidden",
        "Bạn chỉ được thao tác trên điểm cầu (đơn vị) của mình.",
        "You may act only on your own endpoint (unit).",
    )


def may_read_task(who: Principal, task: Document) -> bool:
    """An inspection or a year-end report: the IT department and viewers read every one, a
    technician their endpoints' (and an inspection whose plan visits one of them), a clerk
    their unit's."""
    if who.role in (Role.OPERATOR, Role.VIEWER):
        return True
    if who.role is Role.TECHNICIAN:
        visits = (task.get("plan") or {}).get("endpoints") or []
        return any(who.serves(e) for e in (task.get("endpoint"), *visits))
    return who.role is Role.REGISTRAR and who.unit is not None and task.get("unit") == who.unit


def not_yours() -> Refusal:
    return Refusal(
        403,
        "forbidden",
        "Bạn chỉ xem được cuộc họp, điểm cầu của đơn vị mình.",
        "You may see only your own unit's meetings and endpoints.",
    )


def only_operators(who: Principal) -> None:
    """The IT department plans the periodic inspections (rule 4)."""
    if who.role is not Role.OPERATOR:
        raise Refusal(
            403,
            "forbidden",
            "Chỉ Sở KH&CN lập kế hoạch kiểm tra định kỳ.",
            "Only the IT department plans periodic inspections.",
        )


def changed_meanwhile() -> Refusal:
    return Refusal(
        409,
        "changed_meanwhile",
        "Nhiệm vụ kiểm tra vừa được người khác thay đổi; hãy tải lại và thử lại.",
        "Someone changed this inspection meanwhile; reload and try again.",
    )


@dataclass
class Inspection:
    store: Store
    timers: TimerPort
    clock: Clock
    policy_for: Callable[[str], Policy]
    """The Service's cached policy loader."""
    dead_letter: Callable[[RawMessage, str, str], Awaitable[None]]
    """The consumer's DLQ writer, for parked submissions given up on."""
    park_grace: timedelta = timedelta(minutes=10)
    """How long a submission waits for its meeting's SlotAssigned before the DLQ."""

    def recorded_at(self, tenant: str, field: str, when: datetime | None) -> datetime:
        """A time a person gives for a record (None: now), never in the future."""
        now = self.clock.now()
        broken(self.policy_for(tenant), incidents.in_future(field, when, now))
        return when or now

    # ------------------------------------------------------------ checklists

    async def apply_slot(self, slot: SlotAssigned) -> None:
        """Open, move or close the meeting's checklists to match this revision."""
        meeting = await self.store.meeting(slot.tenant, slot.meeting_id)
        key = meeting["_id"] if meeting else checklists.meeting_key(slot.tenant, slot.meeting_id)
        existing = await self.store.checklists_of(meeting) if meeting else []
        policy_ref = self.policy_for(slot.tenant).ref(checklists.CHECK_RULE)
        rule = checklists.check_rule(slot, policy_ref)
        plan = checklists.plan_checklists(slot, existing, self.clock.now(), rule, key)
        if plan.stale:
            return
        deadline = slot.check_deadline
        timer_id = checklists.deadline_timer_id(key, slot.revision, deadline)
        # earlier revisions' timers go first: a redelivery after a crash finds them again
        opening = checklists.opening_timer(slot, key) if plan.opening else None
        keep = {timer_id, *((opening,) if opening else ())}
        for old in checklists.timers_to_cancel(existing, timer_id) - keep:
            await self.timers.cancel(old)
        known = [*(c["endpoint"] for c in existing), *slot.endpoints]
        record = checklists.meeting_record(slot, known, key)
        await self.store.save_meeting(record, new=meeting is None)
        # the existing checklists are brought to this revision before the new endpoints'
        # are written (held to the batch's end): a board that shows a new endpoint never
        # shows one that left still open
        await self.store.close_checklists([c["_id"] for c in plan.close], "changed")
        before = {c["_id"]: c for c in existing}
        for checklist in [*plan.reopen, *plan.keep]:
            if checklist != before[checklist["_id"]]:
                await self.store.replace_checklist(checklist)
        await self.store.insert_checklists(plan.open)
        payload = {"meeting_id": slot.meeting_id}
        await self.timers.schedule(timer_id, MISSED, deadline, slot.tenant, payload)
        if opening:  # the backups switched to in the last hour are checked by the opening
            start = slot.slot.meeting.start
            await self.timers.schedule(opening, MISSED, start, slot.tenant, payload)
        # the cancellation travels on another topic: it may have come first or meanwhile
        if await self.store.is_cancelled(slot.tenant, slot.meeting_id):
            await self.close_meeting(slot.tenant, slot.meeting_id, "cancelled")
        for parked in await self.store.parked_for(slot.tenant, slot.meeting_id):
            await self.apply_parked(parked["_id"], giving_up=False)

    async def close_meeting(self, tenant: str, meeting_id: str, reason: str) -> None:
        await self.store.mark_cancelled(tenant, meeting_id)
        found = await self.store.meeting_checklists(tenant, meeting_id)
        await self.store.close_checklists([c["_id"] for c in found if not c["closed"]], reason)
        for timer_id in {checklists.timer_of(c) for c in found}:
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
        """Record a technician's or probe's results; None when this marker was applied.
        A line measured beyond the province's limits is a problem, whoever ticked it."""
        policy = self.policy_for(tenant)
        items = checks.judged(items, checks.limits({k: r.value for k, r in policy.rules.items()}))
        checklist = await self.store.meeting_checklist(tenant, meeting_id, endpoint)
        if checklist is None:
            raise Refusal(
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
            return checks.submission_result(current, results, items, by, at, marker)

        return await self.store.append_result(checklist, marker, decide)

    async def submit_check(
        self,
        who: Principal,
        meeting_id: str,
        endpoint: str,
        items: Mapping[CheckItem, ItemResult],
        key: str | None,
    ) -> tuple[Document, bool]:
        """A person's check of an endpoint: its board entry, and False when the same
        idempotency `key` was applied already (one entry, one CheckCompleted)."""
        may_act(who, endpoint)
        problems_say_what(self.policy_for(who.tenant), items)
        # the marker names the province: provinces may number their meetings alike
        checklist = checklists.checklist_id(
            checklists.meeting_key(who.tenant, meeting_id), endpoint
        )
        retry = f"{who.subject}:{key}" if key else uuid.uuid4().hex
        added = await self.submit(
            who.tenant,
            meeting_id,
            endpoint,
            items,
            who.subject,
            self.clock.now(),
            marker=f"http:{checklist}:{retry}",
        )
        board = await self.board(meeting_id, who.tenant)
        return next(b for b in board if b["endpoint"] == endpoint), added is not None

    async def board(self, meeting_id: str, tenant: str) -> list[Document]:
        found = await self.store.meeting_checklists(tenant, meeting_id)
        endpoints = [c["endpoint"] for c in found]
        open_incidents = await self.store.open_incidents(tenant, endpoints)
        histories = await asyncio.gather(*(self.store.results_of(c["_id"]) for c in found))
        return [
            checks.board_item(c, results, open_incidents)
            for c, results in zip(found, histories, strict=True)
        ]

    async def readiness(self, who: Principal, meeting_id: str) -> list[Document]:
        """The meeting's readiness board (404 for a meeting with no checklist here)."""
        board = await self.board(meeting_id, who.tenant)
        if not board:
            raise Refusal.not_found(f"cuộc họp {meeting_id}", f"meeting {meeting_id}")
        await self.may_read_meeting(who, meeting_id)
        return board

    async def may_read_meeting(self, who: Principal, meeting_id: str) -> None:
        """A meeting's readiness and ratings, as registration shows the meeting: the IT
        department and viewers; a technician of an endpoint it is held at; a clerk of its
        host unit or of a unit whose endpoint it is held at (else 403; 404 unknown here)."""
        if who.role in (Role.OPERATOR, Role.VIEWER):
            return
        meeting = await self.store.meeting(who.tenant, meeting_id)
        if meeting is None:
            raise Refusal.not_found(f"cuộc họp {meeting_id}", f"meeting {meeting_id}")
        endpoints = meeting["endpoints"]
        if who.role is Role.TECHNICIAN and any(who.serves(e) for e in endpoints):
            return
        if who.role is Role.REGISTRAR and who.unit is not None:
            if meeting.get("host_unit") == who.unit:
                return
            if who.unit in await self.store.units_of(who.tenant, endpoints):
                return
        raise not_yours()

    # ------------------------------------------------------------ results before their slot

    async def submit_event(self, event: CheckSubmitted, raw: RawMessage) -> None:
        """A probe's results from Kafka. Results for a meeting not known here yet are
        parked: its SlotAssigned travels on another topic and may come later."""
        try:
            await self._submit_event(event)
        except Refusal as exc:
            if exc.status == 409:
                return  # results for a closed checklist change nothing
            meeting = await self.store.meeting(event.tenant, event.meeting_id)
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
        if await self.store.meeting_checklist(event.tenant, event.meeting_id, event.endpoint):
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
        except Refusal as exc:
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
            return checks.missed_result(current, results, timer.due_at)

        found = await self.store.meeting_checklists(timer.tenant, timer.payload["meeting_id"])
        await asyncio.gather(
            *(self.store.append_result(c, checklists.missed_marker(c), decide) for c in found)
        )
        return []

    # ------------------------------------------------------------ incidents

    async def open_incident(
        self, who: Principal, reported: Mapping[str, Any], opened_at: datetime | None
    ) -> Document:
        """Report an incident at an endpoint (of a meeting, when one is named)."""
        endpoint, meeting_id = reported["endpoint"], reported.get("meeting_id")
        may_act(who, endpoint)
        if not await self.store.endpoint_known(who.tenant, endpoint, meeting_id):
            if meeting_id:
                raise Refusal.not_found(
                    f"điểm cầu {endpoint} trong cuộc họp {meeting_id}",
                    f"endpoint {endpoint} in meeting {meeting_id}",
                )
            raise Refusal.not_found(f"điểm cầu {endpoint}", f"endpoint {endpoint}")
        at = self.recorded_at(who.tenant, "opened_at", opened_at)
        incident = incidents.new_incident(uuid.uuid4().hex, who.tenant, reported, at, who.subject)
        await self.store.insert_incident(incident)
        return {**incident, "id": incident["_id"]}

    async def incidents(
        self, tenant: str, endpoint: str | None, state: str | None
    ) -> list[Document]:
        return await self.store.incidents(tenant, endpoint, state)

    async def incident(self, tenant: str, incident_id: str) -> Document:
        found = await self.store.incident(tenant, incident_id)
        if found is None:
            raise Refusal.not_found("sự cố", "incident")
        return found

    async def resolve(
        self, who: Principal, incident_id: str, cause: str, fix: str, at: datetime | None
    ) -> Document:
        found = await self.incident(who.tenant, incident_id)
        may_act(who, found["endpoint"])
        resolved_at = self.recorded_at(who.tenant, "resolved_at", at)
        broken(self.policy_for(who.tenant), incidents.resolved_too_early(found, resolved_at))
        changes = incidents.resolution(cause, fix, resolved_at, who.subject)
        if not await self.store.resolve_incident(incident_id, changes):
            raise Refusal(409, "resolved", "Sự cố đã được khắc phục.", "Already resolved.")
        return {**found, **changes}

    # ------------------------------------------------------------ quality feedback

    async def held_meeting(self, tenant: str, meeting_id: str, endpoint: str | None) -> Document:
        """The meeting feedback is about, if it may be given now (else Refusal)."""
        meeting = await self.store.meeting(tenant, meeting_id)
        cancelled = await self.store.is_cancelled(tenant, meeting_id)
        refusal = feedback.feedback_refusal(meeting, endpoint, cancelled, self.clock.now())
        if refusal is not None:
            raise Refusal(*refusal)
        assert meeting is not None
        return meeting

    async def rate_endpoint(
        self, who: Principal, meeting_id: str, endpoint: str, scores: Mapping[str, int], note: str
    ) -> tuple[Document, bool]:
        """An endpoint's line, audio and video after the meeting; True if the first."""
        may_act(who, endpoint)
        meeting = await self.held_meeting(who.tenant, meeting_id, endpoint)
        return await self._give_feedback(meeting, endpoint, scores, note, who.subject)

    async def rate_meeting(
        self, who: Principal, meeting_id: str, overall: int, note: str
    ) -> tuple[Document, bool]:
        """The host unit's overall rating of the meeting; True if the first."""
        meeting = await self.held_meeting(who.tenant, meeting_id, None)
        may_act(who, None, meeting.get("host_unit"))
        return await self._give_feedback(meeting, None, {"overall": overall}, note, who.subject)

    async def _give_feedback(
        self,
        meeting: Document,
        endpoint: str | None,
        scores: Mapping[str, int],
        comment: str,
        by: str,
    ) -> tuple[Document, bool]:
        """Store the feedback (replacing an earlier one); True if it is the first."""
        entry = feedback.feedback_entry(
            meeting, endpoint=endpoint, scores=scores, comment=comment, by=by, now=self.clock.now()
        )
        return entry, await self.store.save_feedback(entry)

    async def feedback(self, who: Principal, meeting_id: str) -> list[Document]:
        found = await self.store.meeting_feedback(who.tenant, meeting_id)
        if found:  # none yet reads the same to everyone: nothing to show
            await self.may_read_meeting(who, meeting_id)
        return found

    # ------------------------------------------------------------ tasks

    async def open_task(self, due: ReportDue) -> None:
        now = self.clock.now()
        if due.kind is ReportKind.PERIODIC_INSPECTION:
            policy = self.policy_for(due.tenant)
            rule = "inspection.with_line_provider"
            task = tasks.inspection_task(due, bool(policy.value(rule)), policy.ref(rule), now)
            await self.store.open_task(INSPECTIONS, task, str(due.event_id))
        elif due.kind is ReportKind.ANNUAL_ENDPOINT_REPORT:
            await self.store.open_task(ANNUAL, tasks.annual_task(due, now), str(due.event_id))

    async def inspections(
        self, who: Principal, endpoint: str | None, state: str | None
    ) -> list[Document]:
        found = await self.store.tasks(
            INSPECTIONS, who.tenant, "due_at", endpoint=endpoint, state=state
        )
        return [task for task in found if may_read_task(who, task)]

    async def annual_reports(self, who: Principal, year: int | None) -> list[Document]:
        year_text = str(year) if year else None
        found = await self.store.tasks(ANNUAL, who.tenant, "endpoint", year=year_text)
        return [task for task in found if may_read_task(who, task)]

    async def hand_in_inspection(
        self,
        who: Principal,
        task_id: str,
        items: Mapping[CheckItem, ItemResult],
        details: Mapping[str, Any],
        inspected_at: datetime | None,
    ) -> Document:
        """A periodic inspection's result: the items (each problem with its note), the
        `details` (faults, fixes, line_provider_present), when it was done."""
        task = await self.store.task(INSPECTIONS, who.tenant, task_id)
        if task is None:
            raise Refusal.not_found("nhiệm vụ kiểm tra", "inspection")
        may_act(who, task["endpoint"])
        problems_say_what(self.policy_for(who.tenant), items)
        result = tasks.inspection_result(
            {k.value: v.model_dump() for k, v in items.items()},
            details["faults"],
            details["fixes"],
            details["line_provider_present"],
            self.recorded_at(who.tenant, "inspected_at", inspected_at),
            who.subject,
        )
        changes = {"state": "done", "result": result}
        await self._complete(INSPECTIONS, task, who.subject, changes)
        return {**task, **changes}

    async def plan_inspection(
        self,
        who: Principal,
        task_id: str,
        planned_at: datetime,
        endpoints: list[str],
        with_line_provider: bool,
    ) -> Document:
        """Set or change an open inspection's plan (the IT department): its parties are told
        (`InspectionScheduled`), at least the notice lead time ahead."""
        only_operators(who)
        task = await self._open_inspection(who.tenant, task_id)
        policy, now = self.policy_for(who.tenant), self.clock.now()
        plan = plans.plan_of(task, planned_at, endpoints, with_line_provider)
        known = await self.store.directory("endpoints", who.tenant)
        broken(policy, plans.plan_breach(plan, known, policy.duration(plans.LEAD_RULE), now))
        changes, event = plans.replanned(task, plan, policy.ref(plans.LEAD_RULE), now)
        expected = {"state": "open", "plan_revision": task.get("plan_revision")}
        if not await self.store.update_task(INSPECTIONS, task_id, changes, [event], expected):
            raise changed_meanwhile()
        return {**task, **changes}

    async def cancel_inspection(self, who: Principal, task_id: str, reason: str) -> Document:
        """Call an open inspection off; whoever its plan named is told."""
        only_operators(who)
        task = await self._open_inspection(who.tenant, task_id)
        changes, event = plans.cancelled(task, reason, who.subject, self.clock.now())
        marker = f"http:{uuid.uuid4()}"
        if not await self.store.complete_task(INSPECTIONS, task_id, marker, changes, [event]):
            raise changed_meanwhile()
        return {**task, **changes}

    async def inspection(self, who: Principal, task_id: str) -> Document:
        task = await self._inspection(who.tenant, task_id)
        if not may_read_task(who, task):
            raise not_yours()
        return task

    async def _inspection(self, tenant: str, task_id: str) -> Document:
        task = await self.store.task(INSPECTIONS, tenant, task_id)
        if task is None:
            raise Refusal.not_found("nhiệm vụ kiểm tra", "inspection")
        return task

    async def _open_inspection(self, tenant: str, task_id: str) -> Document:
        task = await self._inspection(tenant, task_id)
        if task["state"] != "open":
            raise Refusal(
                409,
                "task_closed",
                "Nhiệm vụ kiểm tra đã xong hoặc đã hủy.",
                "This inspection is done or cancelled.",
            )
        return task

    async def hand_in_evaluation(
        self, who: Principal, task_id: str, evaluated: Document
    ) -> Document:
        """An endpoint's (or unit's) year-end evaluation."""
        task = await self.store.task(ANNUAL, who.tenant, task_id)
        if task is None:
            raise Refusal.not_found("yêu cầu báo cáo", "report request")
        may_act(who, task.get("endpoint"), task.get("unit"))
        changes = tasks.evaluation(task, evaluated, who.subject, self.clock.now())
        await self._complete(ANNUAL, task, who.subject, changes)
        return {**task, **changes}

    async def _complete(self, collection: str, task: Document, by: str, changes: Document) -> None:
        kind = (
            ReportKind.PERIODIC_INSPECTION
            if collection == INSPECTIONS
            else ReportKind.ANNUAL_ENDPOINT_REPORT
        )
        submitted = tasks.handed_in(task, kind, by, self.clock.now())
        marker = f"http:{uuid.uuid4()}"
        if not await self.store.complete_task(
            collection, task["_id"], marker, changes, [submitted]
        ):
            raise Refusal(
                409,
                "task_closed",
                "Nhiệm vụ này đã được nộp kết quả.",
                "This task has already been handed in.",
            )

    # ------------------------------------------------------------ directory

    async def remember_endpoint(self, event: EndpointUpdated) -> None:
        snapshot = event.model_dump(
            mode="json", include={"tenant", "code", "name", "unit", "active", "kind"}
        )
        key = f"{event.tenant}:{event.code}"
        await self.store.save_snapshot("endpoints", key, snapshot, event.occurred_at)

    async def remember_unit(self, event: UnitUpdated) -> None:
        snapshot = event.model_dump(mode="json", include={"tenant", "code", "name", "active"})
        key = f"{event.tenant}:{event.code}"
        await self.store.save_snapshot("units", key, snapshot, event.occurred_at)

    async def remember_notice(self, event: NoticeDelivered | NoticeAcknowledged) -> None:
        """A written notice delivered or acknowledged: counted by the year report."""
        await self.store.save_notice_fact(notice_fact(event))

    async def notice_compliance(self) -> dict[str, Document]:
        """This year's rule-2 figures per province so far (for `/metrics`)."""
        now = self.clock.now()
        around = timedelta(days=1)  # a province's year starts up to a day off UTC's
        start = datetime(now.year - 1, 12, 31, tzinfo=UTC) - around
        facts = await self.store.notice_facts(start, now + around)
        by_tenant: dict[str, list[Document]] = {}
        for fact in facts:
            by_tenant.setdefault(fact["tenant"], []).append(fact)
        figures = {}
        for tenant, rows in by_tenant.items():
            tz = zone(self.policy_for(tenant))
            figures[tenant] = notice_figures(rows, now.astimezone(tz).year, tz)
        return figures

    # ------------------------------------------------------------ year-end report

    async def compile(self, tenant: str, year: int) -> Document:
        policy = self.policy_for(tenant)
        tz = zone(policy)
        start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
        raw = await self.store.year_records(tenant, year, start, end)
        records = Records(
            **raw,
            endpoints=await self.store.directory("endpoints", tenant),
            units=await self.store.directory("units", tenant),
        )
        letters = bool(policy.value("registration.official_letter"))
        report = compile_report(records, year, policy.timezone, self.clock.now(), letters)
        report["tenant"] = tenant
        report["rules"] = [policy.ref(r).model_dump() for r in REPORT_RULES]
        return report

    async def compile_and_keep(self, who: Principal, year: int) -> Document:
        """Compile the report and keep it as the year's snapshot."""
        report = await self.compile(who.tenant, year)
        report["compiled_by"] = who.subject
        await self.store.save_report({**report, "_id": f"{who.tenant}:{year}"})
        return report

    async def kept_report(self, tenant: str, year: int) -> Document:
        saved = await self.store.saved_report(f"{tenant}:{year}")
        if saved is None:
            raise Refusal.not_found(f"báo cáo năm {year}", f"report for {year}")
        return saved
