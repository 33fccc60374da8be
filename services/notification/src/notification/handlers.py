"""Notification's subscribers and timer handlers: event (or timer) -> use case."""

from __future__ import annotations

from hnth_contracts import (
    AccessLinkIssued,
    CheckCompleted,
    ContactsUpdated,
    EndpointUpdated,
    Event,
    InspectionCancelled,
    InspectionScheduled,
    MeetingCancelled,
    ReportDue,
    ReportSubmitted,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
    UnitUpdated,
)
from hnth_kit.consumer import Handler, RawMessage
from hnth_kit.timers import Timer, TimerHandler
from notification.domain.timers import TimerKind
from notification.usecases import Notifications, Snapshot

READ_MEETINGS = (SlotAssigned, SlotReleased, MeetingCancelled, CheckCompleted, ReportDue)
"""The events whose handling reads their meeting (and its cancellation): read once a
consumer batch (`hnth_kit.batch_reads.by_meeting`)."""


def build_handlers(notifications: Notifications) -> dict[type[Event], Handler]:
    n = notifications

    async def on_assigned(event: SlotAssigned, _: RawMessage) -> None:
        await n.slot_assigned(event)

    async def on_cancelled(event: MeetingCancelled, _: RawMessage) -> None:
        await n.cancel(event.tenant, event.meeting_id, event.reason)

    async def on_released(event: SlotReleased, _: RawMessage) -> None:
        await n.slot_released(event)

    async def on_rejected(event: SlotRejected, _: RawMessage) -> None:
        await n.slot_rejected(event)

    async def on_check(event: CheckCompleted, _: RawMessage) -> None:
        await n.check_completed(event)

    async def on_report_due(event: ReportDue, _: RawMessage) -> None:
        await n.report_due(event)

    async def on_report_submitted(event: ReportSubmitted, _: RawMessage) -> None:
        await n.report_submitted(event.tenant, event.report_id)

    async def on_inspection_planned(event: InspectionScheduled, _: RawMessage) -> None:
        await n.inspection_scheduled(event)

    async def on_inspection_cancelled(event: InspectionCancelled, _: RawMessage) -> None:
        await n.inspection_cancelled(event)

    async def on_access_link(event: AccessLinkIssued, _: RawMessage) -> None:
        await n.access_link_issued(event)

    async def on_directory(event: Snapshot, _: RawMessage) -> None:
        await n.directory_changed(event)

    return {
        SlotAssigned: on_assigned,
        SlotRejected: on_rejected,
        SlotReleased: on_released,
        MeetingCancelled: on_cancelled,
        CheckCompleted: on_check,
        ReportDue: on_report_due,
        ReportSubmitted: on_report_submitted,
        InspectionScheduled: on_inspection_planned,
        InspectionCancelled: on_inspection_cancelled,
        ContactsUpdated: on_directory,
        UnitUpdated: on_directory,
        EndpointUpdated: on_directory,
        AccessLinkIssued: on_access_link,
    }


def build_timer_handlers(notifications: Notifications) -> dict[str, TimerHandler]:
    """Timers create notices keyed by the timer id, so a taken-over claim adds nothing."""
    n = notifications

    async def remind_meeting(timer: Timer) -> list[Event]:
        await n.remind_meeting(timer)
        return []

    async def remind_check(timer: Timer) -> list[Event]:
        await n.remind_check(timer)
        return []

    async def notice_deadline(timer: Timer) -> list[Event]:
        await n.notice_deadline(timer)
        return []

    async def ack_deadline(timer: Timer) -> list[Event]:
        await n.ack_deadline(timer)
        return []

    async def remind_report(timer: Timer) -> list[Event]:
        await n.remind_report(timer)
        return []

    async def technician_list(timer: Timer) -> list[Event]:
        await n.circulate_technician_list(timer)
        return []

    return {
        TimerKind.TECHNICIAN_LIST: technician_list,
        TimerKind.REMIND_MEETING: remind_meeting,
        TimerKind.REMIND_CHECK: remind_check,
        TimerKind.NOTICE_DEADLINE: notice_deadline,
        TimerKind.ACK_DEADLINE: ack_deadline,
        TimerKind.REMIND_REPORT: remind_report,
    }
