"""Scheduling's subscribers: decode -> domain -> store (+ outbox)."""

from __future__ import annotations

from collections.abc import Callable

from hnth_contracts import MeetingRequested
from hnth_contracts.policy import Policy
from hnth_kit.clock import Clock
from hnth_kit.consumer import Handler, RawMessage
from scheduling import domain
from scheduling.store import SchedulingStore


def build_handlers(
    store: SchedulingStore, policy_for: Callable[[str], Policy], clock: Clock
) -> dict[type, Handler]:
    async def on_requested(event: MeetingRequested, _: RawMessage) -> None:
        decision = domain.assign_slot(event, policy_for(event.tenant), clock.now())
        await store.record_decision(event.meeting_id, str(event.event_id), decision)

    return {MeetingRequested: on_requested}
