"""Registration consumes what happens to meetings to build their timelines: its own and
other systems' lifecycle events, scheduling's decisions and inspection's check outcomes,
and the requests for a meeting's minutes (ReportDue, kind meeting_record).

Meetings that other systems (e-office, work calendars) announce straight on the topic are
adopted, so they are listed and shown like any other; their changes are applied here, in
partition order, and the HTTP API leaves them to their producer.

Everything is per province: a meeting is (event.tenant, meeting id), so two provinces'
systems publishing the same meeting id get a meeting and a timeline each (see `store`).
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from hnth_contracts import (
    CheckCompleted,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    ReportDue,
    ReportKind,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
)
from hnth_kit.clock import Clock
from hnth_kit.consumer import Handler, RawMessage, Unprocessable
from hnth_kit.idempotency import UnknownDocument
from registration import PRODUCER, records
from registration.store import MaterialsStore, RegistrationStore, meeting_fields


def build_handlers(
    store: RegistrationStore, materials: MaterialsStore, clock: Clock
) -> dict[type, Handler]:
    async def on_requested(event: MeetingRequested, _: RawMessage) -> None:
        if event.producer != PRODUCER:
            meeting = {
                "_id": event.meeting_id,
                "tenant": event.tenant,
                "source": event.producer,
                "revision": 0,
                "cancelled": False,
                "registered_at": event.occurred_at,
                "registered_by": event.requested_by,
                "urgent_reason": event.urgent_reason,
                **meeting_fields(event),
            }
            try:
                await store.adopt_meeting(meeting, event)
            except DuplicateKeyError:
                raise Unprocessable(
                    "meeting_id_taken",
                    f"{event.tenant} already has a meeting {event.meeting_id} of another source",
                ) from None
        summary = {"by": event.requested_by, "late_notice": event.late_notice}
        await store.add_to_timeline(event, event.meeting_id, summary)

    async def on_changed(event: MeetingChanged, _: RawMessage) -> None:
        if event.producer != PRODUCER:
            await _apply_external(event, {**meeting_fields(event), "revision": event.revision})
        summary = {
            "by": event.changed_by,
            "revision": event.revision,
            "start": event.start,
            "end": event.end,
            "endpoints": list(event.endpoints),
            "late_notice": event.late_notice,
        }
        await store.add_to_timeline(event, event.meeting_id, summary)

    async def on_cancelled(event: MeetingCancelled, _: RawMessage) -> None:
        if event.producer != PRODUCER:
            await _apply_external(event, {"cancelled": True, "cancel_reason": event.reason})
        summary = {"by": event.cancelled_by, "reason": event.reason}
        await store.add_to_timeline(event, event.meeting_id, summary)

    async def _apply_external(
        event: MeetingChanged | MeetingCancelled, fields: dict[str, Any]
    ) -> None:
        try:
            await store.apply_external(event, fields)
        except UnknownDocument:
            pass  # a change to a meeting never announced here: the timeline still records it

    async def on_assigned(event: SlotAssigned, _: RawMessage) -> None:
        summary = {
            "revision": event.revision,
            "slot": event.slot.model_dump(mode="json"),
            "check_deadline": event.check_deadline,
            "late_notice": event.late_notice,
        }
        await store.add_to_timeline(event, event.meeting_id, summary)

    async def on_rejected(event: SlotRejected, _: RawMessage) -> None:
        rejection = event.model_dump(mode="json", include={"conflicts", "alternatives"})
        summary = {"revision": event.revision, "rejection": rejection}
        await store.add_to_timeline(event, event.meeting_id, summary)

    async def on_released(event: SlotReleased, _: RawMessage) -> None:
        summary = {"revision": event.revision, "reason": event.reason}
        await store.add_to_timeline(event, event.meeting_id, summary)

    async def on_check(event: CheckCompleted, _: RawMessage) -> None:
        check = event.model_dump(
            mode="json", include={"endpoint", "outcome", "failed_items", "on_time", "checked_by"}
        )
        await store.add_to_timeline(event, event.meeting_id, {"check": check})

    async def on_report_due(event: ReportDue, _: RawMessage) -> None:
        if event.kind is not ReportKind.MEETING_RECORD or not event.meeting_id:
            return  # year-end reports and inspections are inspection's business
        summary = {
            "report_id": event.report_id,
            "kind": event.kind.value,
            "unit": event.unit,
            "due_at": event.due_at,
            "rule": event.rule.model_dump(),
        }
        await store.add_to_timeline(event, event.meeting_id, summary)
        due = {**summary, "meeting_id": event.meeting_id}
        await records.on_due(materials, due, event.tenant, clock.now())

    return {
        MeetingRequested: on_requested,
        MeetingChanged: on_changed,
        MeetingCancelled: on_cancelled,
        SlotAssigned: on_assigned,
        SlotRejected: on_rejected,
        SlotReleased: on_released,
        CheckCompleted: on_check,
        ReportDue: on_report_due,
    }
