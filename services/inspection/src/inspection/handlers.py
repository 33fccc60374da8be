"""Inspection's subscribers: decode -> use case, and the type table."""

from __future__ import annotations

from hnth_contracts import (
    CheckSubmitted,
    EndpointUpdated,
    MeetingCancelled,
    NoticeAcknowledged,
    NoticeDelivered,
    ReportDue,
    SlotAssigned,
    SlotReleased,
    UnitUpdated,
)
from hnth_kit.consumer import Handler, RawMessage, Unprocessable
from hnth_kit.refusal import Refusal
from inspection.usecases import Inspection

READ_MEETINGS = (SlotAssigned, SlotReleased, MeetingCancelled, CheckSubmitted)
"""The events whose handling reads their meeting (and its cancellation): read once a
consumer batch (`hnth_kit.batch_reads.by_meeting`)."""


def build_handlers(inspection: Inspection) -> dict[type, Handler]:
    async def on_assigned(event: SlotAssigned, _: RawMessage) -> None:
        await inspection.apply_slot(event)

    async def on_released(event: SlotReleased, _: RawMessage) -> None:
        if event.reason == "cancelled":  # "changed" is followed by the new SlotAssigned
            await inspection.close_meeting(event.tenant, event.meeting_id, "cancelled")

    async def on_cancelled(event: MeetingCancelled, _: RawMessage) -> None:
        await inspection.close_meeting(event.tenant, event.meeting_id, "cancelled")

    async def on_submitted(event: CheckSubmitted, raw: RawMessage) -> None:
        try:
            await inspection.submit_event(event, raw)
        except Refusal as exc:
            raise Unprocessable(exc.code, exc.en) from exc

    async def on_report_due(event: ReportDue, _: RawMessage) -> None:
        await inspection.open_task(event)

    async def on_endpoint(event: EndpointUpdated, _: RawMessage) -> None:
        await inspection.remember_endpoint(event)

    async def on_unit(event: UnitUpdated, _: RawMessage) -> None:
        await inspection.remember_unit(event)

    async def on_notice(event: NoticeDelivered | NoticeAcknowledged, _: RawMessage) -> None:
        await inspection.remember_notice(event)

    return {
        SlotAssigned: on_assigned,
        SlotReleased: on_released,
        MeetingCancelled: on_cancelled,
        CheckSubmitted: on_submitted,
        ReportDue: on_report_due,
        EndpointUpdated: on_endpoint,
        UnitUpdated: on_unit,
        NoticeDelivered: on_notice,
        NoticeAcknowledged: on_notice,
    }
