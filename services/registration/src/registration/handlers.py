"""Registration consumes the outcomes of its meetings to build their timelines."""

from __future__ import annotations

from hnth_contracts import CheckCompleted, SlotAssigned, SlotRejected
from hnth_kit.consumer import Handler, RawMessage
from registration.store import RegistrationStore


def build_handlers(store: RegistrationStore) -> dict[type, Handler]:
    async def on_assigned(event: SlotAssigned, _: RawMessage) -> None:
        slot = event.slot.model_dump(mode="json")
        await store.add_to_timeline(event, event.meeting_id, {"slot": slot})

    async def on_rejected(event: SlotRejected, _: RawMessage) -> None:
        rejection = event.model_dump(mode="json", include={"conflicts", "alternatives"})
        await store.add_to_timeline(event, event.meeting_id, {"rejection": rejection})

    async def on_check(event: CheckCompleted, _: RawMessage) -> None:
        check = event.model_dump(mode="json", include={"endpoint", "outcome", "failed_items"})
        await store.add_to_timeline(event, event.meeting_id, {"check": check})

    return {SlotAssigned: on_assigned, SlotRejected: on_rejected, CheckCompleted: on_check}
