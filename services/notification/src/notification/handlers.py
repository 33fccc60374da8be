"""Notification's subscribers and timer handlers: event -> domain plan -> notices stored.

Every handler is idempotent: notices have deterministic ids (inserted once), facts are
inserted or replaced by key, timers have deterministic ids. A re-run after a crash
plans exactly the same notices.

Cancellation is keyed on the MEETING (one CANCEL per meeting), and both
`MeetingCancelled` (meetings stream) and `SlotReleased(reason="cancelled")` (slots
stream) trigger it: the first to arrive sends, the other finds the same notice ids.
`SlotReleased` follows `SlotAssigned` on the same partition, so a cancel can never be
planned before the meeting's notice exists; `MeetingCancelled` alone could overtake a
`SlotAssigned` still in flight on the other stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hnth_contracts import (
    CheckCompleted,
    ContactsUpdated,
    EndpointUpdated,
    Event,
    MeetingCancelled,
    ReportDue,
    ReportSubmitted,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
    UnitUpdated,
)
from hnth_contracts.policy import Policy
from hnth_kit.clock import Clock
from hnth_kit.consumer import Handler, RawMessage
from hnth_kit.timers import Timer, TimerHandler, Timers
from notification.domain import escalations, meetings, planning, reminders, reports, timers
from notification.domain.notices import FORMAL_KINDS, Notice, Status
from notification.domain.timers import TimerKind, TimerPlan
from notification.store import NotificationStore

Snapshot = ContactsUpdated | UnitUpdated | EndpointUpdated


@dataclass
class Context:
    store: NotificationStore
    timers: Timers
    clock: Clock
    policy_for: Callable[[str], Policy]
    webhooks: Sequence[str]
    wake: Callable[[], None]

    async def add(self, notices: Sequence[Notice]) -> None:
        await self.store.add_notices(notices, self.clock.now())
        if notices:
            self.wake()

    async def schedule(self, tenant: str, plans: Sequence[TimerPlan]) -> None:
        for p in plans:
            await self.timers.schedule(p.id, p.kind, p.due_at, tenant, p.payload)


def build_handlers(ctx: Context) -> dict[type[Event], Handler]:
    store = ctx.store

    async def on_assigned(event: SlotAssigned, _: RawMessage) -> None:
        previous = await store.meeting(event.tenant, event.meeting_id)
        if meetings.is_stale(event.revision, previous):
            return
        if await store.cancelled(event.tenant, event.meeting_id):
            return  # the cancellation overtook it: nobody should prepare for it
        policy, now = ctx.policy_for(event.tenant), ctx.clock.now()
        meeting = meetings.meeting_from_slot(event, previous)
        await store.save_meeting(meeting)
        await ctx.add(planning.plan_assignment(meeting, policy, ctx.webhooks, now))
        await ctx.schedule(event.tenant, timers.meeting_timers(meeting, policy, now))

    async def cancel(tenant: str, meeting_id: str, reason: str | None) -> None:
        await store.mark_cancelled(tenant, meeting_id, reason)
        meeting = await store.meeting(tenant, meeting_id)
        if meeting is None:
            return  # never assigned here, so nobody was told
        policy = ctx.policy_for(tenant)
        await ctx.add(planning.plan_cancellation(meeting, policy, ctx.webhooks, reason))

    async def on_cancelled(event: MeetingCancelled, _: RawMessage) -> None:
        await cancel(event.tenant, event.meeting_id, event.reason)

    async def on_released(event: SlotReleased, _: RawMessage) -> None:
        if event.reason == "cancelled":
            await cancel(event.tenant, event.meeting_id, None)

    async def on_rejected(event: SlotRejected, _: RawMessage) -> None:
        await ctx.add(planning.plan_rejection(event, ctx.policy_for(event.tenant)))

    async def on_check(event: CheckCompleted, _: RawMessage) -> None:
        await store.record_check(event.tenant, event.meeting_id, event.endpoint, event.outcome)
        meeting = await store.meeting(event.tenant, event.meeting_id)
        await ctx.add(planning.plan_check_alert(event, meeting, ctx.policy_for(event.tenant)))

    async def on_report_due(event: ReportDue, _: RawMessage) -> None:
        meeting = await store.meeting(event.tenant, event.meeting_id) if event.meeting_id else None
        await ctx.add(reports.plan_report_request(event, meeting))
        policy, now = ctx.policy_for(event.tenant), ctx.clock.now()
        timer = reports.report_reminder_timer(event, policy, now, meeting)
        await ctx.schedule(event.tenant, [timer] if timer else [])

    async def on_report_submitted(event: ReportSubmitted, _: RawMessage) -> None:
        await store.mark_report_submitted(event.tenant, event.report_id)

    async def on_directory(event: Snapshot, _: RawMessage) -> None:
        await store.save_snapshot(event)
        ctx.wake()  # notices waiting for an address may go now

    return {
        SlotAssigned: on_assigned,
        SlotRejected: on_rejected,
        SlotReleased: on_released,
        MeetingCancelled: on_cancelled,
        CheckCompleted: on_check,
        ReportDue: on_report_due,
        ReportSubmitted: on_report_submitted,
        ContactsUpdated: on_directory,
        UnitUpdated: on_directory,
        EndpointUpdated: on_directory,
    }


def build_timer_handlers(ctx: Context) -> dict[str, TimerHandler]:
    """Timers create notices keyed by the timer id, so a taken-over claim adds nothing."""
    store = ctx.store

    async def current_meeting(timer: Timer) -> meetings.Meeting | None:
        meeting = await store.meeting(timer.tenant, str(timer.payload["meeting_id"]))
        cancelled = await store.cancelled(timer.tenant, str(timer.payload["meeting_id"]))
        return meeting if timers.timer_is_current(timer.payload, meeting, cancelled) else None

    async def remind_meeting(timer: Timer) -> list[Event]:
        meeting = await current_meeting(timer)
        if meeting:
            policy = ctx.policy_for(timer.tenant)
            await ctx.add(reminders.plan_meeting_reminder(timer.id, meeting, policy))
        return []

    async def remind_check(timer: Timer) -> list[Event]:
        meeting = await current_meeting(timer)
        if meeting:
            checked = await store.checked_endpoints(timer.tenant, meeting.meeting_id)
            policy = ctx.policy_for(timer.tenant)
            await ctx.add(reminders.plan_check_reminder(timer.id, meeting, checked, policy))
        return []

    async def notice_deadline(timer: Timer) -> list[Event]:
        meeting = await current_meeting(timer)
        if meeting:
            notices = await store.for_cause(meetings.assignment_cause(meeting))
            undelivered = [
                n["recipient"]
                for n in notices
                if n["kind"] in FORMAL_KINDS and n["status"] != Status.SENT
            ]
            policy = ctx.policy_for(timer.tenant)
            await ctx.add(
                escalations.plan_deadline_escalation(timer.id, meeting, undelivered, policy)
            )
        return []

    async def remind_report(timer: Timer) -> list[Event]:
        if not await store.report_submitted(timer.tenant, str(timer.payload["report_id"])):
            await ctx.add(reports.plan_report_reminder(timer.id, timer.tenant, timer.payload))
        return []

    return {
        TimerKind.REMIND_MEETING: remind_meeting,
        TimerKind.REMIND_CHECK: remind_check,
        TimerKind.NOTICE_DEADLINE: notice_deadline,
        TimerKind.REMIND_REPORT: remind_report,
    }
