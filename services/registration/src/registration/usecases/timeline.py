"""What happens to meetings, put on their timelines: registration's own and other systems'
lifecycle events, scheduling's decisions, inspection's check outcomes and the requests for
a meeting's minutes (ReportDue, kind meeting_record). The only place that builds the
documents the consumer writes.

Meetings that other systems (e-office, work calendars) announce straight on the topic are
adopted, so they are listed and shown like any other; their changes are applied here, in
partition order, and the HTTP API leaves them to their producer.

Everything is per province: a meeting is (event.tenant, meeting id), so two provinces'
systems publishing the same meeting id get a meeting and a timeline each (see `store`).
Every write is keyed by the event (its id), so a redelivered event changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from hnth_contracts import (
    CheckCompleted,
    Event,
    HoldDecided,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    ReportDue,
    ReportKind,
    SlotAssigned,
    SlotHeld,
    SlotRejected,
    SlotReleased,
    meetings_named,
)
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal
from registration import PRODUCER, records
from registration.store import meeting_fields

CHECK_FIELDS = {"endpoint", "outcome", "failed_items", "on_time", "checked_by"}


class TimelineStore(Protocol):
    """What the timeline use cases need of the store (`RegistrationStore` implements it)."""

    async def prefetch_meetings(self, meetings: Sequence[tuple[str, str]]) -> None: ...

    async def adopt_meeting(self, meeting: Document, event: Event) -> bool: ...

    async def apply_external(self, event: Event, fields: Document) -> bool: ...

    async def add_to_timeline(self, event: Event, meeting_id: str, summary: Document) -> None: ...

    async def set_reached(
        self, tenant: str, meeting_id: str, revision: int, endpoints: Sequence[str]
    ) -> None: ...


class RecordStore(Protocol):
    """What they need of the materials (`MaterialsStore` implements it)."""

    async def minutes(self, tenant: str, meeting_id: str) -> list[Document]: ...

    async def submit_record(self, tenant: str, report_id: str, event: Event) -> None: ...


def adopted(event: MeetingRequested) -> Document:
    """The meeting another system announced, as registration stores it."""
    return {
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


def id_taken(event: MeetingRequested) -> Refusal:
    return Refusal(
        409,
        "meeting_id_taken",
        f"{event.tenant} đã có cuộc họp {event.meeting_id} của một nguồn khác.",
        f"{event.tenant} already has a meeting {event.meeting_id} of another source",
    )


class Timeline:
    def __init__(self, store: TimelineStore, materials: RecordStore, clock: Clock) -> None:
        self.store, self.materials, self.clock = store, materials, clock

    async def prefetch(self, events: Sequence[Event]) -> None:
        """Before a consumer batch: read the meetings other systems announced in it, once
        (`Service.prefetch`); registration's own requests look nothing up."""
        others = [e for e in events if e.producer != PRODUCER]
        await self.store.prefetch_meetings(meetings_named(others, (MeetingRequested,)))

    async def requested(self, event: MeetingRequested) -> None:
        """Adopt another system's meeting (Refusal `meeting_id_taken` if the province has
        one of that id from another source), then put the request on the timeline."""
        if event.producer != PRODUCER and not await self.store.adopt_meeting(adopted(event), event):
            raise id_taken(event)
        summary = {
            "by": event.requested_by,
            "late_notice": event.late_notice,
            # as registered: what a later change's line says it changed
            "start": event.start,
            "end": event.end,
            "endpoints": list(event.endpoints),
        }
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def changed(self, event: MeetingChanged) -> None:
        if event.producer != PRODUCER:
            # a change to a meeting never announced here: the timeline still records it
            await self.store.apply_external(
                event, {**meeting_fields(event), "revision": event.revision}
            )
        summary = {
            "by": event.changed_by,
            "revision": event.revision,
            "start": event.start,
            "end": event.end,
            "endpoints": list(event.endpoints),
            "late_notice": event.late_notice,
            "reason": event.reason,
        }
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def cancelled(self, event: MeetingCancelled) -> None:
        if event.producer != PRODUCER:
            fields = {"cancelled": True, "cancel_reason": event.reason}
            await self.store.apply_external(event, fields)  # unknown meeting: as `changed`
        summary = {"by": event.cancelled_by, "reason": event.reason}
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def assigned(self, event: SlotAssigned) -> None:
        summary = {
            "revision": event.revision,
            "slot": event.slot.model_dump(mode="json"),
            "endpoints": list(event.endpoints),
            "groups": [g.model_dump(mode="json") for g in event.groups],
            "check_deadline": event.check_deadline,
            "late_notice": event.late_notice,
        }
        if event.groups:  # a technician of an endpoint a group reached sees the meeting
            await self.store.set_reached(
                event.tenant, event.meeting_id, event.revision, event.endpoints
            )
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def held(self, event: SlotHeld) -> None:
        """Waiting for the IT department: the slot kept, until when, under which rules."""
        summary = {
            "revision": event.revision,
            "slot": event.slot.model_dump(mode="json"),
            "endpoints": list(event.endpoints),
            "expires_at": event.expires_at,
            "rules": [r.model_dump() for r in event.rules],
        }
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def hold_decided(self, event: HoldDecided) -> None:
        summary = {
            "revision": event.revision,
            "by": event.decided_by,
            "approved": event.approved,
            "reason": event.reason,
            "rule": event.rule.model_dump(),
        }
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def rejected(self, event: SlotRejected) -> None:
        rejection = event.model_dump(
            mode="json", include={"conflicts", "alternatives", "preemptible"}
        )
        summary = {"revision": event.revision, "rejection": rejection}
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def released(self, event: SlotReleased) -> None:
        summary: dict[str, Any] = {"revision": event.revision, "reason": event.reason}
        if event.why is not None:  # displaced: by which meeting, the rule and its source
            summary["why"] = event.why.model_dump(mode="json")
        await self.store.add_to_timeline(event, event.meeting_id, summary)

    async def checked(self, event: CheckCompleted) -> None:
        check = event.model_dump(mode="json", include=CHECK_FIELDS)
        await self.store.add_to_timeline(event, event.meeting_id, {"check": check})

    async def report_due(self, event: ReportDue) -> None:
        """The minutes are asked for: on the timeline, and announced at once if they came
        first (see `records`). Other kinds of report are inspection's business."""
        if event.kind is not ReportKind.MEETING_RECORD or not event.meeting_id:
            return
        summary = {
            "report_id": event.report_id,
            "kind": event.kind.value,
            "unit": event.unit,
            "due_at": event.due_at,
            "rule": event.rule.model_dump(),
        }
        await self.store.add_to_timeline(event, event.meeting_id, summary)
        due = {**summary, "meeting_id": event.meeting_id}
        minutes = await self.materials.minutes(event.tenant, event.meeting_id)
        if minutes and not any(event.report_id in m.get("reports", ()) for m in minutes):
            announcement = records.submitted(due, event.tenant, PRODUCER, self.clock.now())
            await self.materials.submit_record(event.tenant, event.report_id, announcement)
