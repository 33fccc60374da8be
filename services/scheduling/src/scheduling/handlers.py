"""Scheduling's subscribers and timers: event (or due timer) -> use case, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from hnth_contracts import (
    EndpointGroupUpdated,
    EndpointUpdated,
    Event,
    HoldDecided,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    UnitUpdated,
)
from hnth_kit.consumer import Handler, RawMessage
from hnth_kit.timers import Timer, TimerHandler
from scheduling.usecases import (
    ANNUAL,
    HOLD,
    INSPECTION,
    RECORD,
    UNKNOWN_ENDPOINT,
    Scheduling,
)

READ_MEETINGS = (MeetingRequested,)
"""Events whose meeting's history the consumer batch reads at its start
(`SchedulingStore.prefetch_histories`): a new meeting's request, which finds none. Not a
change or a cancellation: their meeting's decision may be settled meanwhile (an approval,
a hold's deadline), and they act on what it holds, so they read it when they need it."""


def build_handlers(scheduling: Scheduling) -> dict[type, Handler]:
    async def on_requested(event: MeetingRequested, _: RawMessage) -> None:
        await scheduling.decide(event)

    async def on_changed(event: MeetingChanged, _: RawMessage) -> None:
        await scheduling.decide(event)

    async def on_cancelled(event: MeetingCancelled, _: RawMessage) -> None:
        await scheduling.cancel(event)

    async def on_hold_decided(event: HoldDecided, _: RawMessage) -> None:
        await scheduling.hold_decided(event)

    async def on_endpoint(event: EndpointUpdated, _: RawMessage) -> None:
        await scheduling.on_endpoint(event)

    async def on_unit(event: UnitUpdated, _: RawMessage) -> None:
        await scheduling.on_unit(event)

    async def on_group(event: EndpointGroupUpdated, _: RawMessage) -> None:
        await scheduling.on_group(event)

    return {
        MeetingRequested: on_requested,
        MeetingChanged: on_changed,
        MeetingCancelled: on_cancelled,
        HoldDecided: on_hold_decided,
        EndpointUpdated: on_endpoint,
        UnitUpdated: on_unit,
        EndpointGroupUpdated: on_group,
    }


def timer_handlers(scheduling: Scheduling) -> dict[str, TimerHandler]:
    async def on_annual(timer: Timer) -> Sequence[Event]:
        endpoint, year = timer.payload["endpoint"], int(timer.payload["number"])
        return await scheduling.annual_report_due(timer.tenant, endpoint, year)

    async def on_inspection(timer: Timer) -> Sequence[Event]:
        endpoint, index = timer.payload["endpoint"], int(timer.payload["number"])
        return await scheduling.inspection_due(timer.tenant, endpoint, index)

    async def on_meeting_record(timer: Timer) -> Sequence[Event]:
        meeting_id, revision = timer.payload["meeting_id"], timer.payload["revision"]
        return await scheduling.meeting_record_due(timer.tenant, meeting_id, revision)

    async def on_grace_over(timer: Timer) -> Sequence[Event]:
        return await scheduling.grace_over(timer.payload["parked"])

    async def on_hold_expired(timer: Timer) -> Sequence[Event]:
        meeting_id, revision = timer.payload["meeting_id"], timer.payload["revision"]
        return await scheduling.hold_expired(timer.tenant, meeting_id, revision)

    return {
        HOLD: on_hold_expired,
        ANNUAL: on_annual,
        INSPECTION: on_inspection,
        RECORD: on_meeting_record,
        UNKNOWN_ENDPOINT: on_grace_over,
    }
