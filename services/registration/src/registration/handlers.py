"""Registration's subscribers: event -> use case (`usecases.timeline`), nothing else.

A use case's `Refusal` (a meeting id another source holds) dead-letters the event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from hnth_contracts import (
    CheckCompleted,
    Event,
    HoldDecided,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    MeetingSubmitted,
    ReportDue,
    SlotAssigned,
    SlotHeld,
    SlotRejected,
    SlotReleased,
    Topics,
)
from hnth_kit.consumer import Handler, RawMessage, Unprocessable
from hnth_kit.refusal import Refusal
from registration.usecases.inbound import AUTHORIZATION, Inbound
from registration.usecases.timeline import Timeline


def refusals_dead_lettered(handler: Handler) -> Handler:
    """`handler`, with a use case's refusal sent to the DLQ with its reason."""

    async def handle(event: Event, raw: RawMessage) -> None:
        try:
            await handler(event, raw)
        except Refusal as refused:
            raise Unprocessable(refused.code, refused.en) from refused

    return handle


def subscriber(use_case: Callable[[Any], Awaitable[None]]) -> Handler:
    """The handler calling `use_case` with the event; a refusal goes to the DLQ."""

    async def handle(event: Event, _: RawMessage) -> None:
        await use_case(event)

    return refusals_dead_lettered(handle)


def sent_with(raw: RawMessage) -> tuple[str | None, datetime | None]:
    """A system's request's `authorization` header and when it was sent."""
    headers = {name.lower(): value for name, value in raw.headers}
    token = headers.get(AUTHORIZATION, b"").decode(errors="replace") or None
    sent = raw.timestamp_ms
    return token, datetime.fromtimestamp(sent / 1000, UTC) if sent is not None else None


def unreadable(
    inbound: Inbound, topics: Topics
) -> Callable[[RawMessage, ValidationError], Awaitable[None]]:
    """A message that does not decode: on a province's inbound topic, its system is told
    what is broken (when it can be); on any other topic, nothing to do here."""

    async def told(raw: RawMessage, invalid: ValidationError) -> None:
        try:
            province = topics.province_of(raw.topic)
        except ValueError:
            return
        await inbound.unreadable(raw.value, invalid, province, *sent_with(raw))

    return told


def handlers(timeline: Timeline, inbound: Inbound, topics: Topics) -> dict[type[Event], Handler]:
    """The type table: which use case each event goes to."""

    async def submitted(event: MeetingSubmitted, raw: RawMessage) -> None:
        """A system's request, for the province whose inbound topic carried it, with the
        token it was sent with and when."""
        await inbound.submitted(event, topics.province_of(raw.topic), *sent_with(raw))

    return {
        MeetingSubmitted: refusals_dead_lettered(submitted),
        MeetingRequested: subscriber(timeline.requested),
        MeetingChanged: subscriber(timeline.changed),
        MeetingCancelled: subscriber(timeline.cancelled),
        SlotAssigned: subscriber(timeline.assigned),
        SlotRejected: subscriber(timeline.rejected),
        SlotReleased: subscriber(timeline.released),
        SlotHeld: subscriber(timeline.held),
        HoldDecided: subscriber(timeline.hold_decided),
        CheckCompleted: subscriber(timeline.checked),
        ReportDue: subscriber(timeline.report_due),
    }
